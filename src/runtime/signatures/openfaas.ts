/**
 * The `openfaas` signature, as the node18/node20 templates (of-watchdog + Express) call it:
 * `module.exports = async (event, context[, callback])` with `event = { body, headers, method, query, path }`
 * and a chainable `context.status(n).headers({...}).succeed(v)` / `.fail(e)`. A returned value means
 * `succeed(value)` unless the function already called `succeed`/`fail`/`callback`.
 * Reference: https://github.com/openfaas/templates/blob/master/template/node20/index.js
 *
 * Differences on purpose: a thrown error answers 500 (the template answered with the current status,
 * usually 200), and an object result is sent as `application/json` unless the function set a type.
 */
import { HandlerLoadError, describeValue } from '../loader.js';
import type { IncomingRequest, OutgoingResponse } from '../model.js';
import { decodeExpressBody, expressSend, normaliseHeaders, pathOf, queryOf } from './body.js';
import type { SignatureAdapter, UserFunction } from './types.js';

/** The `event` argument. */
export interface OpenFaasEvent {
  body: unknown;
  headers: IncomingRequest['headers'];
  method: string;
  query: Record<string, string | string[]>;
  path: string;
}

type Done = (err: unknown, value?: unknown) => void;

/** The `context` argument: status and headers of the answer, and the two ways to end it. */
export class OpenFaasContext {
  private statusCode = 200;
  private headerValues: Record<string, unknown> = {};
  /** How many times `succeed`/`fail` were called; only the first one answers. */
  cbCalled = 0;

  constructor(private readonly done: Done) {}

  /** `status(404)` sets the status and chains; `status()` reads it. */
  status(code?: number | string): this | number {
    if (!code) return this.statusCode;
    this.statusCode = Number(code);
    return this;
  }

  /** `headers({...})` replaces the response headers and chains; `headers()` reads them. */
  headers(value?: Record<string, unknown>): this | Record<string, unknown> {
    if (!value) return this.headerValues;
    this.headerValues = value;
    return this;
  }

  succeed(value?: unknown): void {
    this.cbCalled++;
    this.done(undefined, value);
  }

  fail(value?: unknown): void {
    if (this.statusCode === 200) this.statusCode = 500;
    this.cbCalled++;
    this.done(value ?? 'Internal Server Error');
  }

  /** The response for a successful result. */
  successResponse(value: unknown): OutgoingResponse {
    return expressSend(this.statusCode, value, normaliseHeaders(this.headerValues));
  }

  /** The response for `fail(err)` / `callback(err)`: the error's text with the current status. */
  failureResponse(err: unknown): OutgoingResponse {
    return expressSend(this.statusCode, typeof err === 'string' ? err : String(err), {});
  }
}

export const openfaasAdapter: SignatureAdapter = (userExport) => {
  if (typeof userExport !== 'function') {
    throw new HandlerLoadError(
      `the openfaas signature expects module.exports = async (event, context) => ..., got ${describeValue(userExport)}`,
    );
  }
  const fn = userExport as UserFunction;
  return (req) => invoke(fn, req);
};

function invoke(fn: UserFunction, req: IncomingRequest): Promise<OutgoingResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const done: Done = (err, value) => {
      if (answered) return;
      answered = true;
      resolve(
        err !== undefined && err !== null ? context.failureResponse(err) : context.successResponse(value),
      );
    };
    const context = new OpenFaasContext(done);
    Promise.resolve()
      .then(() => fn(openfaasEvent(req), context, done))
      .then(
        (result) => {
          if (context.cbCalled === 0) context.succeed(result);
        },
        (err: unknown) => {
          if (answered) req.log.error({ err }, 'the function failed after it had answered');
          else reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
  });
}

/** The event the template builds from the Express request; a missing content type counts as text/plain. */
export function openfaasEvent(req: IncomingRequest): OpenFaasEvent {
  return {
    body: decodeExpressBody(req, 'text/plain'),
    headers: req.headers,
    method: req.method,
    query: queryOf(req.url),
    path: pathOf(req.url),
  };
}
