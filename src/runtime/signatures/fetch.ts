/**
 * The `fetch` signature: `handler(request, context)` with a WHATWG `Request`, as in Cloudflare Workers,
 * Deno and Bun. The handler may return a `Response`, a string (text/plain), another value (JSON) or nothing
 * (204). `export default { fetch(request) {} }` works too.
 */
import type { Logger } from 'pino';
import { HandlerLoadError, describeValue } from '../loader.js';
import type { FunctionInfo, IncomingRequest, OutgoingResponse, ResponseHeaders } from '../model.js';
import { headerValue, jsonResponse, textResponse, ContentTypes } from './body.js';
import type { SignatureAdapter, UserFunction } from './types.js';

/** The second argument of a fetch-style handler. */
export interface FetchContext {
  requestId: string;
  functionName: string;
  namespace: string;
  runtime: string;
  /** Aborted when the request times out; also `request.signal`. */
  signal: AbortSignal;
  log: Logger;
}

export const fetchAdapter: SignatureAdapter = (userExport, info) => {
  const fn = callableOf(userExport);
  return async (req) => {
    const result = await fn(toWebRequest(req), fetchContext(req, info));
    return fromFetchResult(result);
  };
};

function callableOf(userExport: unknown): UserFunction {
  if (typeof userExport === 'function') return userExport as UserFunction;
  const method = (userExport as { fetch?: unknown } | null)?.fetch;
  if (typeof method === 'function') return (method as UserFunction).bind(userExport);
  throw new HandlerLoadError(
    `the fetch signature expects a function (export default async (request, context) => Response) or an object with a fetch method, got ${describeValue(userExport)}`,
  );
}

function fetchContext(req: IncomingRequest, info: FunctionInfo): FetchContext {
  return {
    requestId: req.requestId,
    functionName: info.name,
    namespace: info.namespace,
    runtime: info.runtime,
    signal: req.signal,
    log: req.log,
  };
}

/** A WHATWG Request for our request; the URL's origin comes from the Host (or forwarded) headers. */
export function toWebRequest(req: IncomingRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body.length > 0;
  return new Request(absoluteUrl(req), {
    method: req.method,
    headers,
    body: hasBody ? req.body : null,
    signal: req.signal,
  });
}

function absoluteUrl(req: IncomingRequest): string {
  const proto =
    headerValue(req.headers, 'x-forwarded-proto')?.split(',')[0]?.trim() === 'https' ? 'https' : 'http';
  const host =
    headerValue(req.headers, 'x-forwarded-host')?.split(',')[0]?.trim() ??
    headerValue(req.headers, 'host') ??
    'localhost';
  try {
    return new URL(req.url, `${proto}://${host}`).href;
  } catch {
    return new URL(req.url, 'http://localhost').href;
  }
}

/** Maps what a fetch handler returned to our response model. */
export async function fromFetchResult(result: unknown): Promise<OutgoingResponse> {
  if (isResponse(result)) {
    return {
      status: result.status,
      headers: headersOf(result.headers),
      body: Buffer.from(await result.arrayBuffer()),
    };
  }
  if (result === undefined || result === null) return { status: 204, headers: {}, body: '' };
  if (typeof result === 'string') return textResponse(200, result);
  if (result instanceof Uint8Array)
    return { status: 200, headers: { 'content-type': ContentTypes.binary }, body: Buffer.from(result) };
  return jsonResponse(200, result);
}

/** `instanceof Response` fails across realms (e.g. a test VM), so recognise the shape as well. */
function isResponse(value: unknown): value is Response {
  if (value instanceof Response) return true;
  const v = value as Partial<Response> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.status === 'number' &&
    typeof v.arrayBuffer === 'function' &&
    typeof v.headers?.forEach === 'function'
  );
}

function headersOf(headers: Headers): ResponseHeaders {
  const out: ResponseHeaders = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}
