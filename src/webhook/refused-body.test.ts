import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { discardBody } from './refused-body.js';

const LIMITS = { bytes: 1000, timeoutMs: 200 };

/** A request body stream as Node.js gives it, with the two fields discardBody reads. */
function body(headers: Record<string, string> = {}): PassThrough & { complete: boolean; headers: object } {
  const stream = Object.assign(new PassThrough(), { complete: false, headers });
  stream.on('end', () => (stream.complete = true));
  return stream;
}

describe('discardBody', () => {
  it('resolves true once the rest of the body has arrived', async () => {
    const request = body({ 'content-length': '900' });
    const discarded = discardBody(request as unknown as IncomingMessage, LIMITS);
    request.write(Buffer.alloc(500));
    request.end(Buffer.alloc(400));
    await expect(discarded).resolves.toBe(true);
  });

  it('resolves true at once for a body that is already complete', async () => {
    const request = Object.assign(body(), { complete: true });
    await expect(discardBody(request as unknown as IncomingMessage, LIMITS)).resolves.toBe(true);
  });

  it('does not wait for a body declared over the limit', async () => {
    const request = body({ 'content-length': '1001' });
    await expect(discardBody(request as unknown as IncomingMessage, LIMITS)).resolves.toBe(false);
  });

  it('stops reading once more than the limit has arrived', async () => {
    const request = body();
    const discarded = discardBody(request as unknown as IncomingMessage, LIMITS);
    request.write(Buffer.alloc(1001));
    await expect(discarded).resolves.toBe(false);
  });

  it('gives up on a body that stops arriving', async () => {
    const request = body({ 'content-length': '900' });
    const discarded = discardBody(request as unknown as IncomingMessage, LIMITS);
    request.write(Buffer.alloc(100));
    await expect(discarded).resolves.toBe(false);
  });

  it('resolves false when the client goes away', async () => {
    const request = body({ 'content-length': '900' });
    const discarded = discardBody(request as unknown as IncomingMessage, LIMITS);
    request.destroy();
    await expect(discarded).resolves.toBe(false);
  });
});
