/**
 * The `knative` signature, as Knative func's Node.js runtime (faas-js-runtime) calls it:
 * `module.exports = { handle: async (context, body) => ... }`. `body` is parsed JSON, a parsed form, text,
 * or the raw Buffer; a CloudEvent request (binary `ce-*` headers or structured
 * `application/cloudevents+json`) is passed as a plain event object instead and also set on
 * `context.cloudevent`. The result is a value (string → text, object → JSON, nothing → 204) or
 * `{ statusCode, headers, body }`; a returned event (`specversion`, `id`, `source`, `type`) is answered in
 * binary CloudEvents mode. An error with a numeric `code` of 400–599 answers that status with its message.
 * Reference: https://github.com/nodeshift/faas-js-runtime/blob/main/lib/invoker.js
 */
import { HandlerLoadError, describeValue } from '../loader.js';
import type { IncomingRequest, OutgoingResponse, ResponseHeaders } from '../model.js';
import {
  ContentTypes,
  isJsonType,
  mediaType,
  normaliseHeaders,
  parseJsonBody,
  parseQuery,
  queryOf,
  textResponse,
} from './body.js';
import type { SignatureAdapter, UserFunction } from './types.js';

/** The `context` argument (faas-js-runtime's Context, minus the Fastify request internals). */
export interface KnativeContext {
  [queryParam: string]: unknown;
  query: Record<string, string | string[]>;
  body: unknown;
  headers: IncomingRequest['headers'];
  method: string;
  httpVersion: string;
  contentType: string | undefined;
  rawBody: Buffer;
  log: IncomingRequest['log'];
  cloudevent?: CloudEventLike;
}

/** A CloudEvent as a plain object: the context attributes plus `data`. */
export type CloudEventLike = Record<string, unknown> & {
  specversion: string;
  id: string;
  source: string;
  type: string;
};

const DEFAULT_HEADERS: ResponseHeaders = {
  'access-control-allow-methods': 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH',
  'access-control-allow-origin': '*',
};

export const knativeAdapter: SignatureAdapter = (userExport) => {
  if (typeof userExport !== 'function') {
    throw new HandlerLoadError(
      `the knative signature expects module.exports = { handle: async (context, body) => ... }, got ${describeValue(userExport)}`,
    );
  }
  const fn = userExport as UserFunction;
  return async (req) => {
    const context = knativeContext(req);
    try {
      return fromResult(await fn(context, context.cloudevent ?? context.body));
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'number' && code >= 400 && code <= 599)
        return textResponse(code, (err as Error).message ?? '');
      throw err;
    }
  };
};

/** Builds the context; query parameters are also copied onto it, as faas-js-runtime does. */
export function knativeContext(req: IncomingRequest): KnativeContext {
  const query = queryOf(req.url);
  const cloudevent = cloudEventOf(req);
  const context: KnativeContext = {
    ...query,
    query,
    body: cloudevent ? cloudevent.data : knativeBody(req),
    headers: req.headers,
    method: req.method,
    httpVersion: '1.1',
    contentType: req.headers['content-type'],
    rawBody: req.body,
    // A getter, so that the request's child logger is only built when the function logs.
    get log() {
      return req.log;
    },
  };
  if (cloudevent) context.cloudevent = cloudevent;
  return context;
}

/** JSON → value, form → object, text → string, no body → undefined, anything else → Buffer. */
export function knativeBody(req: IncomingRequest): unknown {
  if (req.body.length === 0) return undefined;
  const type = mediaType(req.headers);
  if (isJsonType(type)) return parseJsonBody(req.body);
  if (type === 'application/x-www-form-urlencoded') return parseQuery(req.body.toString('utf8'));
  if (type.startsWith('text/')) return req.body.toString('utf8');
  return req.body;
}

/** A CloudEvent in binary mode (`ce-*` headers) or structured mode; undefined for plain HTTP. */
export function cloudEventOf(req: IncomingRequest): CloudEventLike | undefined {
  if (mediaType(req.headers) === 'application/cloudevents+json')
    return parseJsonBody(req.body) as CloudEventLike;
  if (req.headers['ce-type'] === undefined) return undefined;
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('ce-') && typeof value === 'string') event[name.slice(3)] = value;
  }
  if (req.headers['content-type'] !== undefined) event.datacontenttype = req.headers['content-type'];
  event.data = knativeBody(req);
  return event as CloudEventLike;
}

/** faas-js-runtime's invoker: 204 for nothing, text for strings, `{ statusCode, headers, body }` or JSON. */
export function fromResult(result: unknown): OutgoingResponse {
  if (!result) return { status: 204, headers: { ...DEFAULT_HEADERS }, body: '' };
  if (typeof result === 'string')
    return { status: 200, headers: { ...DEFAULT_HEADERS, 'content-type': ContentTypes.text }, body: result };
  if (typeof result !== 'object') return json(200, result, {});
  if (isCloudEvent(result)) return binaryCloudEvent(result);
  const r = result as { statusCode?: unknown; headers?: unknown; body?: unknown };
  const status = typeof r.statusCode === 'number' ? r.statusCode : 200;
  const headers = normaliseHeaders(r.headers);
  if (r.body === undefined) return json(status, result, headers);
  if (typeof r.body === 'string')
    return {
      status,
      headers: { ...DEFAULT_HEADERS, 'content-type': ContentTypes.text, ...headers },
      body: r.body,
    };
  if (Buffer.isBuffer(r.body))
    return {
      status,
      headers: { ...DEFAULT_HEADERS, 'content-type': ContentTypes.binary, ...headers },
      body: r.body,
    };
  return json(status, r.body, headers);
}

function json(status: number, value: unknown, headers: ResponseHeaders): OutgoingResponse {
  return {
    status,
    headers: { ...DEFAULT_HEADERS, 'content-type': ContentTypes.json, ...headers },
    body: JSON.stringify(value) ?? '',
  };
}

function isCloudEvent(value: object): value is CloudEventLike {
  const v = value as Record<string, unknown>;
  return ['specversion', 'id', 'source', 'type'].every((k) => typeof v[k] === 'string');
}

/** Binary content mode: attributes as `ce-*` headers, data as the body. https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/http-protocol-binding.md */
function binaryCloudEvent(event: CloudEventLike): OutgoingResponse {
  const headers: ResponseHeaders = { ...DEFAULT_HEADERS };
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'datacontenttype' || value === undefined || value === null) continue;
    headers[`ce-${name.toLowerCase()}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const data = event.data;
  const type = typeof event.datacontenttype === 'string' ? event.datacontenttype : undefined;
  if (typeof data === 'string')
    return { status: 200, headers: { ...headers, 'content-type': type ?? ContentTypes.text }, body: data };
  if (data === undefined) return { status: 200, headers, body: '' };
  return {
    status: 200,
    headers: { ...headers, 'content-type': type ?? ContentTypes.json },
    body: JSON.stringify(data) ?? '',
  };
}
