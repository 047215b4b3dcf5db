import { describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { awaitReady } from './await-ready.js';

/** An admin server whose /readyz answers 503 until `readyAfterMs` has passed. */
async function adminServer(readyAfterMs: number): Promise<Server> {
  const started = performance.now();
  const server = createServer((request, response) => {
    response.statusCode =
      request.url === '/readyz' && performance.now() - started >= readyAfterMs ? 200 : 503;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('awaitReady', () => {
  it('returns true once /readyz answers 200, not before', async () => {
    const server = await adminServer(150);
    const port = String((server.address() as AddressInfo).port);
    const started = performance.now();
    await expect(awaitReady({ CLOUDBASE_ADMIN_PORT: port }, 5000)).resolves.toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    server.close();
  });

  it('gives up with false at the deadline when nothing listens', async () => {
    const server = await adminServer(0);
    const port = String((server.address() as AddressInfo).port);
    server.close();
    await expect(awaitReady({ CLOUDBASE_ADMIN_PORT: port }, 200)).resolves.toBe(false);
  });
});
