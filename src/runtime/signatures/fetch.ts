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
  return async (req) => fromFetchResult(await fn(toWebRequest(req), new FunctionContext(req, info)));
};

function callableOf(userExport: unknown): UserFunction {
  if (typeof userExport === 'function') return userExport as UserFunction;
  const method = (userExport as { fetch?: unknown } | null)?.fetch;
  if (typeof method === 'function') return (method as UserFunction).bind(userExport);
  throw new HandlerLoadError(
    `the fetch signature expects a function (export default async (request, context) => Response) or an object with a fetch method, got ${describeValue(userExport)}`,
  );
}

/**
 * The context a fetch handler gets. `signal` and `log` are getters on the prototype, so that neither the
 * signal nor the request's child logger is built unless the function reads it; an object literal with
 * getters would cost more than that, a fresh pair of closures per request. Read them from the context
 * (destructuring works); a spread copy does not carry them.
 */
class FunctionContext implements FetchContext {
  readonly requestId: string;
  readonly functionName: string;
  readonly namespace: string;
  readonly runtime: string;
  readonly #req: IncomingRequest;

  constructor(req: IncomingRequest, info: FunctionInfo) {
    this.requestId = req.requestId;
    this.functionName = info.name;
    this.namespace = info.namespace;
    this.runtime = info.runtime;
    this.#req = req;
  }

  get signal(): AbortSignal {
    return this.#req.signal;
  }

  get log(): Logger {
    return this.#req.log;
  }
}

/**
 * The Request a fetch handler gets. `signal` is the runtime's own (aborted on timeout or when the client
 * goes away), read lazily: handing it to the Request constructor instead would make undici follow it with
 * a second controller, an abort listener and a finalizer on every request, which cost more than the rest
 * of building the Request. The catch: a copy (`request.clone()`, `new Request(request)`, `fetch(request)`)
 * does not follow it; forward it explicitly, e.g. `fetch(url, { signal: request.signal })`.
 */
class FunctionRequest extends Request {
  readonly #source: IncomingRequest;

  constructor(url: string, init: RequestInit, source: IncomingRequest) {
    super(url, init);
    this.#source = source;
  }

  static {
    // An accessor on the prototype: TypeScript declares Request's `signal` as a property, which a class
    // body may not override with a getter.
    Object.defineProperty(FunctionRequest.prototype, 'signal', {
      configurable: true,
      get(this: FunctionRequest): AbortSignal {
        return this.#source.signal;
      },
    });
  }
}

/** A WHATWG Request for our request; the URL's origin comes from the Host (or forwarded) headers. */
export function toWebRequest(req: IncomingRequest): Request {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body.length > 0;
  const init: RequestInit = {
    method: req.method,
    headers: headersInit(req.headers),
    body: hasBody ? req.body : null,
  };
  // The common case: a path from a sane Host, which the Request constructor parses once. Anything else
  // (an absolute-form URL, `//` or `/\` which a URL parser reads as a host, an unusable Host) takes the
  // careful path.
  const { origin, plainHost } = originOf(req);
  if (plainHost && req.url[0] === '/' && req.url[1] !== '/' && req.url[1] !== '\\') {
    try {
      return new FunctionRequest(origin + req.url, init, req);
    } catch {
      // Not a URL after all: resolved below.
    }
  }
  return new FunctionRequest(absoluteUrl(req.url, origin), init, req);
}

/**
 * Node's headers as the Request's `headers`: the object itself when every value is a string (the
 * constructor copies it; no intermediate `Headers`), else name/value pairs so repeated headers stay apart.
 */
function headersInit(headers: IncomingRequest['headers']): RequestInit['headers'] {
  let pairs: [string, string][] | undefined;
  for (const name in headers) {
    if (typeof headers[name] !== 'string') {
      pairs = [];
      break;
    }
  }
  if (pairs === undefined) return headers as Record<string, string>;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, v]);
  }
  return pairs;
}

/** A host name or address with an optional port: nothing that could change the URL when concatenated. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function originOf(req: IncomingRequest): { origin: string; plainHost: boolean } {
  const proto =
    headerValue(req.headers, 'x-forwarded-proto')?.split(',')[0]?.trim() === 'https' ? 'https' : 'http';
  const host =
    headerValue(req.headers, 'x-forwarded-host')?.split(',')[0]?.trim() ??
    headerValue(req.headers, 'host') ??
    'localhost';
  return { origin: `${proto}://${host}`, plainHost: PLAIN_HOST.test(host) };
}

function absoluteUrl(url: string, origin: string): string {
  try {
    return new URL(url, origin).href;
  } catch {
    return new URL(url, 'http://localhost').href;
  }
}

/**
 * Maps what a fetch handler returned to our response model. Only a `Response` needs a promise (its body
 * is read); any other value is answered at once, without a promise of its own on the hot path.
 */
export function fromFetchResult(result: unknown): OutgoingResponse | Promise<OutgoingResponse> {
  if (isResponse(result)) return fromResponse(result);
  if (result === undefined || result === null) return { status: 204, headers: {}, body: '' };
  if (typeof result === 'string') return textResponse(200, result);
  if (result instanceof Uint8Array)
    return { status: 200, headers: { 'content-type': ContentTypes.binary }, body: Buffer.from(result) };
  return jsonResponse(200, result);
}

async function fromResponse(response: Response): Promise<OutgoingResponse> {
  return {
    status: response.status,
    headers: headersOf(response.headers),
    body: Buffer.from(await response.arrayBuffer()),
  };
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
