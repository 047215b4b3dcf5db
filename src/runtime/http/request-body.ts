/**
 * Reads a request's body into one Buffer under the size limit, for every method that sends one (as
 * Express' body-parser does). Every content type arrives as raw bytes: the signature adapters decode as
 * their platform does. Callback style, like the rest of the server's path up to the function call.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export const EMPTY_BODY = Buffer.alloc(0);

/** The body, or the answer to give instead of calling the function. */
export type BodyOutcome = { ok: true; body: Buffer } | { ok: false; status: 400 | 413; message: string };

/**
 * Whether the request carries a body. Node's parser delivers one only when a length or a chunked
 * transfer encoding is declared (https://www.rfc-editor.org/rfc/rfc9112#section-6.3).
 */
export function declaresBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The 413 answer for a body over `limit` bytes. */
export function tooLarge(limit: number): BodyOutcome {
  return {
    ok: false,
    status: 413,
    message: `Payload Too Large: the request body exceeds the limit of ${limit} bytes`,
  };
}

/**
 * Collects the body of `req`, calling `done` once. A declared length over the limit is refused before
 * reading; a chunked body is refused as soon as it passes the limit and no more of it is kept.
 */
export function readBody(
  req: Readable & { headers: IncomingHttpHeaders },
  limit: number,
  done: (outcome: BodyOutcome) => void,
): void {
  if (Number(req.headers['content-length']) > limit) return done(tooLarge(limit));
  const chunks: Buffer[] = [];
  let received = 0;
  const stop = (): void => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
  };
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (received > limit) {
      stop();
      done(tooLarge(limit));
    } else {
      chunks.push(chunk);
    }
  };
  const onEnd = (): void => {
    stop();
    done({ ok: true, body: Buffer.concat(chunks, received) });
  };
  const onError = (): void => {
    stop();
    done({ ok: false, status: 400, message: 'Bad Request: the request body was not received completely' });
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}
