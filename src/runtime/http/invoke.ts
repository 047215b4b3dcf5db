/**
 * Calls the adapted function under the per-request timeout and turns every outcome into a response:
 * the function's answer, 4xx for a client error it detected (e.g. malformed JSON), 500 when it threw,
 * 504 when it was too slow. Pure apart from the timer, so the rules are unit-tested.
 */
import { ClientError, type FunctionHandler, type IncomingRequest, type OutgoingResponse } from '../model.js';
import { textResponse } from '../signatures/body.js';

export type InvokeOutcome =
  | { kind: 'answered'; response: OutgoingResponse }
  | { kind: 'client-error'; response: OutgoingResponse }
  | { kind: 'exception'; error: unknown; response: OutgoingResponse }
  | { kind: 'timeout'; response: OutgoingResponse };

/** Runs `handler(req)`; after `timeoutMs` it aborts `controller` and answers 504 (the call keeps running). */
export async function invokeWithTimeout(
  handler: FunctionHandler,
  req: IncomingRequest,
  timeoutMs: number,
  controller: AbortController,
): Promise<InvokeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<InvokeOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      resolve({
        kind: 'timeout',
        response: textResponse(504, `Gateway Timeout: the function did not answer within ${timeoutMs} ms`),
      });
    }, timeoutMs);
  });
  const call = (async (): Promise<InvokeOutcome> => {
    try {
      return { kind: 'answered', response: await handler(req) };
    } catch (error) {
      return outcomeOfError(error);
    }
  })();
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A thrown error: 4xx `ClientError`s pass their message to the client, anything else is a 500. */
export function outcomeOfError(error: unknown): InvokeOutcome {
  if (error instanceof ClientError && error.statusCode >= 400 && error.statusCode < 500) {
    return { kind: 'client-error', response: textResponse(error.statusCode, error.message) };
  }
  return { kind: 'exception', error, response: textResponse(500, 'Internal Server Error') };
}

/** Headers the HTTP layer owns: hop-by-hop ones and the length, which it computes itself. */
const OWNED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'proxy-connection',
]);

/** The user's response headers without the ones the server must set. */
export function writableHeaders(headers: OutgoingResponse['headers']): OutgoingResponse['headers'] {
  const out: OutgoingResponse['headers'] = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!OWNED_HEADERS.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}
