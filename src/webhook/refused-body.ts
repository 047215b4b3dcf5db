import type { IncomingMessage } from 'node:http';

/** How much of a refused body is read and thrown away, and for how long, before the connection is closed anyway. */
export interface DiscardLimits {
  bytes: number;
  timeoutMs: number;
}

/**
 * Twice the largest review we accept, for at most the webhook configurations' timeout: an honest client that
 * sent too much finishes within that, and a flood costs us no more.
 */
export const DISCARD_LIMITS: DiscardLimits = { bytes: 16 * 1024 * 1024, timeoutMs: 5_000 };

/**
 * Reads and drops the rest of a request body that was refused before it was read (a 413 from its
 * content-length, or once it grew over the limit), and resolves with whether all of it arrived.
 *
 * The answer to such a request says `Connection: close`, and Node.js destroys the socket as soon as the answer
 * is written. A socket closed with unread data is reset (RFC 1122 §4.2.2.13): the client, still writing, gets
 * EPIPE or ECONNRESET and may never read the answer. Answering once the body is in makes the close an
 * orderly one. A body declared or grown over `limits.bytes`, or still arriving after `limits.timeoutMs`, is
 * not waited for: that client is reset, as it would have been.
 */
export function discardBody(
  request: IncomingMessage,
  limits: DiscardLimits = DISCARD_LIMITS,
): Promise<boolean> {
  if (request.complete) return Promise.resolve(true);
  if (Number(request.headers['content-length']) > limits.bytes || request.destroyed)
    return Promise.resolve(false);
  return new Promise((resolve) => {
    let received = 0;
    const finish = (complete: boolean): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      resolve(complete);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.bytes) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onError = (): void => finish(false);
    const onClose = (): void => finish(request.complete);
    const timer = setTimeout(() => finish(false), limits.timeoutMs);
    timer.unref();
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
    // Flowing: what arrives after `finish` is dropped by the stream, with nobody listening.
    request.resume();
  });
}
