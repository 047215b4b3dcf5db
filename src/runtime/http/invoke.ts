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

/** What the timeout aborts: an `AbortController`, or a `RequestAbort` that only builds one when asked. */
export interface Abortable {
  abort(reason?: unknown): void;
}

/**
 * Runs `handler(req)`; after `timeoutMs` it aborts `abortable` and answers 504 (the call keeps running).
 * One timer per call, cleared when the function answers: Node keeps every timer of the same duration in
 * one list behind a single libuv timer, so this is an O(1) append and unlink, not a timer per request in
 * the event loop. https://github.com/nodejs/node/blob/v20.x/lib/internal/timers.js
 */
export function invokeWithTimeout(
  handler: FunctionHandler,
  req: IncomingRequest,
  timeoutMs: number,
  abortable: Abortable,
): Promise<InvokeOutcome> {
  return new Promise((resolve) => callWithTimeout(handler, req, timeoutMs, abortable, resolve));
}

/** `invokeWithTimeout` calling `done` once instead of returning a promise: the server's hot path. */
export function callWithTimeout(
  handler: FunctionHandler,
  req: IncomingRequest,
  timeoutMs: number,
  abortable: Abortable,
  done: (outcome: InvokeOutcome) => void,
): void {
  let settled = false;
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    abortable.abort(new Error(`timed out after ${timeoutMs} ms`));
    done({
      kind: 'timeout',
      response: textResponse(504, `Gateway Timeout: the function did not answer within ${timeoutMs} ms`),
    });
  }, timeoutMs);
  const settle = (outcome: InvokeOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(outcome);
  };
  let call: Promise<OutgoingResponse>;
  try {
    call = handler(req);
  } catch (error) {
    settle(outcomeOfError(error));
    return;
  }
  call.then(
    (response) => settle({ kind: 'answered', response }),
    (error: unknown) => settle(outcomeOfError(error)),
  );
}

/**
 * The request's abort signal, built only when something reads it: an `AbortController` and its signal are
 * costly to create (and the fetch signature's Request would follow it with listeners and a finalizer),
 * and most functions never look. Aborting before anyone asked just remembers the reason.
 */
export class RequestAbort implements Abortable {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  /**
   * `watch` runs when the signal is first read and not yet aborted: the place to start following what
   * else should abort it (the client going away), which no request pays for until a function looks.
   */
  constructor(private readonly watch?: (abort: RequestAbort) => void) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
      else this.watch?.(this);
    }
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** A thrown error: 4xx `ClientError`s pass their message to the client, anything else is a 500. */
export function outcomeOfError(error: unknown): InvokeOutcome {
  if (error instanceof ClientError && error.statusCode >= 400 && error.statusCode < 500) {
    return { kind: 'client-error', response: textResponse(error.statusCode, error.message) };
  }
  return { kind: 'exception', error, response: textResponse(500, 'Internal Server Error') };
}
