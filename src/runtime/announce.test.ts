import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { announceReady } from './announce.js';

const logger = pino({ level: 'silent' });
let server: Server | undefined;
let dir: string | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  server = dir = undefined;
});

/** A real HTTP server that answers with `statuses` in turn and records what it got. */
async function activator(statuses: number[]) {
  const got: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(statuses[Math.min(got.length - 1, statuses.length - 1)]!).end('answer');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  dir = await mkdtemp(path.join(tmpdir(), 'announce-'));
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, 'eyJ.token.sig\n');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { got, config: { activatorUrl: url, ip: '10.1.0.5', uid: 'c0ffee-1', tokenFile } };
}

describe('announceReady', () => {
  it('posts the pod UID and IP with the projected token', async () => {
    const { got, config } = await activator([202]);
    expect(await announceReady(config, logger)).toBe(true);
    expect(got).toHaveLength(1);
    expect(got[0]!.path).toBe('/announce');
    expect(got[0]!.headers.authorization).toBe('Bearer eyJ.token.sig');
    expect(JSON.parse(got[0]!.body)).toEqual({ uid: 'c0ffee-1', ip: '10.1.0.5' });
  });

  it('retries an activator that is failing, and gives up on one that refuses', async () => {
    const failing = await activator([503, 503, 202]);
    expect(await announceReady(failing.config, logger)).toBe(true);
    expect(failing.got).toHaveLength(3);
    await new Promise((resolve) => server!.close(resolve));
    const refusing = await activator([403]);
    expect(await announceReady(refusing.config, logger)).toBe(false);
    expect(refusing.got).toHaveLength(1);
  });

  it('gives up without a token file, sending nothing', async () => {
    const { got, config } = await activator([202]);
    expect(await announceReady({ ...config, tokenFile: '/nonexistent/token' }, logger)).toBe(false);
    expect(got).toHaveLength(0);
  });
});
