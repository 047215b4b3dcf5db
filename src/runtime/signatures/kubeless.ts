/**
 * The `kubeless` signature, as kubeless' Node.js runtime calls it:
 * `module.exports = { <export>: (event, context) => value }` with `event.data` (JSON parsed for JSON
 * requests, text otherwise), the `event-*` attributes from the request headers, Express' request and
 * response in `event.extensions`, and `context['function-name' | 'timeout' | 'runtime' | 'memory-limit']`.
 * A string result is sent as is, an object as JSON, nothing as an empty 200. Like kubeless, every answer
 * allows any origin and OPTIONS is answered as a CORS preflight without calling the function.
 * Reference: https://github.com/vmware-archive/runtimes/blob/master/stable/nodejs/kubeless.js
 */
import { HandlerLoadError, describeValue } from '../loader.js';
import type { FunctionInfo, IncomingRequest, OutgoingResponse } from '../model.js';
import { ContentTypes, headerValue, isJsonType, jsonResponse, mediaType, parseJsonBody } from './body.js';
import { ExpressLikeResponse, expressRequest, type ExpressLikeRequest } from './express.js';
import type { SignatureAdapter, UserFunction } from './types.js';

/** The `event` argument. */
export interface KubelessEvent {
  data: unknown;
  'event-id': string | undefined;
  'event-type': string | undefined;
  'event-time': string | undefined;
  'event-namespace': string | undefined;
  extensions: { request: ExpressLikeRequest; response: ExpressLikeResponse };
}

/** The `context` argument. */
export interface KubelessContext {
  'function-name': string;
  /** Seconds, as kubeless' FUNC_TIMEOUT. */
  timeout: number;
  runtime: string;
  'memory-limit': string | undefined;
}

const CORS = { 'access-control-allow-origin': '*' };

export const kubelessAdapter: SignatureAdapter = (userExport, info) => {
  if (typeof userExport !== 'function') {
    throw new HandlerLoadError(
      `the kubeless signature expects module.exports = { <export>: (event, context) => ... }, and the export is ${describeValue(userExport)}`,
    );
  }
  const fn = userExport as UserFunction;
  const context = kubelessContext(info);
  return async (req) => {
    if (req.method === 'OPTIONS') return preflight(req);
    const event = kubelessEvent(req);
    const result = await fn(event, context);
    return event.extensions.response.response ?? fromResult(result);
  };
};

/** Built once: it only holds facts about the function. */
export function kubelessContext(info: FunctionInfo): KubelessContext {
  return {
    'function-name': info.name,
    timeout: Math.ceil(info.timeoutMs / 1000),
    runtime: info.runtime,
    'memory-limit': info.memoryLimitBytes === undefined ? undefined : String(info.memoryLimitBytes),
  };
}

/** The event kubeless builds: data is parsed JSON, else UTF-8 text; multipart and empty bodies stay raw. */
export function kubelessEvent(req: IncomingRequest): KubelessEvent {
  const type = mediaType(req.headers);
  let data: unknown = req.body.length === 0 ? {} : req.body;
  if (req.body.length > 0 && type !== 'multipart/form-data') {
    data = isJsonType(type) ? parseJsonBody(req.body) : req.body.toString('utf8');
  }
  return {
    data,
    'event-id': headerValue(req.headers, 'event-id'),
    'event-type': headerValue(req.headers, 'event-type'),
    'event-time': headerValue(req.headers, 'event-time'),
    'event-namespace': headerValue(req.headers, 'event-namespace'),
    extensions: { request: expressRequest(req, req.body), response: new ExpressLikeResponse().set(CORS) },
  };
}

/** kubeless' `modFinalize`: string as is, object (and null) as JSON, undefined as an empty body. */
export function fromResult(result: unknown): OutgoingResponse {
  if (result === undefined) return { status: 200, headers: { ...CORS }, body: '' };
  if (typeof result === 'string')
    return { status: 200, headers: { ...CORS, 'content-type': ContentTypes.text }, body: result };
  return jsonResponse(200, result, { ...CORS });
}

function preflight(req: IncomingRequest): OutgoingResponse {
  const headers: Record<string, string> = { ...CORS };
  const method = headerValue(req.headers, 'access-control-request-method');
  const allowHeaders = headerValue(req.headers, 'access-control-request-headers');
  if (method !== undefined) headers['access-control-allow-methods'] = method;
  if (allowHeaders !== undefined) headers['access-control-allow-headers'] = allowHeaders;
  return { status: 200, headers, body: '' };
}
