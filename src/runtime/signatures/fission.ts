/**
 * The `fission` signature, as Fission's Node.js environment calls it:
 * `module.exports = async (context) => ({ status, body, headers })` with Express' `context.request` and
 * `context.response`, or the callback form `(context, callback)` with `callback(status, body, headers)`
 * (chosen, as Fission does, when the function declares two or more parameters).
 * Reference: https://github.com/fission/environments/blob/master/nodejs/server.js
 *
 * A function may also answer through `context.response` directly. A result without `status` answers 200
 * (Fission never answered, and the request hung).
 */
import { HandlerLoadError, describeValue } from '../loader.js';
import type { IncomingRequest, OutgoingResponse } from '../model.js';
import { decodeExpressBody, expressSend, normaliseHeaders } from './body.js';
import { ExpressLikeResponse, expressRequest, type ExpressLikeRequest } from './express.js';
import type { SignatureAdapter, UserFunction } from './types.js';

/** The `context` argument. */
export interface FissionContext {
  request: ExpressLikeRequest;
  response: ExpressLikeResponse;
}

export const fissionAdapter: SignatureAdapter = (userExport) => {
  if (typeof userExport !== 'function') {
    throw new HandlerLoadError(
      `the fission signature expects module.exports = async (context) => ({ status, body, headers }), got ${describeValue(userExport)}`,
    );
  }
  const fn = userExport as UserFunction;
  return fn.length >= 2 ? (req) => invokeWithCallback(fn, req) : (req) => invokeAsync(fn, req);
};

function fissionContext(req: IncomingRequest): FissionContext {
  return { request: expressRequest(req, decodeExpressBody(req)), response: new ExpressLikeResponse() };
}

async function invokeAsync(fn: UserFunction, req: IncomingRequest): Promise<OutgoingResponse> {
  const context = fissionContext(req);
  const result = await (fn.length === 0 ? fn() : fn(context));
  return context.response.response ?? fromResult(result);
}

function invokeWithCallback(fn: UserFunction, req: IncomingRequest): Promise<OutgoingResponse> {
  const context = fissionContext(req);
  return new Promise((resolve, reject) => {
    const callback = (status: unknown, body?: unknown, headers?: unknown): void => {
      // Fission ignores a callback without a status.
      if (status) resolve(expressSend(Number(status), body, normaliseHeaders(headers)));
    };
    void context.response.finished.then(resolve);
    try {
      void Promise.resolve(fn(context, callback)).catch(reject);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** `{ status, body, headers }` → response; Fission sends the body with Express' `res.send`. */
export function fromResult(result: unknown): OutgoingResponse {
  if (typeof result !== 'object' || result === null) {
    throw new TypeError(
      `the fission function returned ${describeValue(result)}; expected { status, body, headers }`,
    );
  }
  const { status, body, headers } = result as { status?: unknown; body?: unknown; headers?: unknown };
  return expressSend(status ? Number(status) : 200, body, normaliseHeaders(headers));
}
