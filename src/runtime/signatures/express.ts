/**
 * A small Express-compatible request/response pair for the signatures whose users receive Express objects
 * (Fission's `context.request`/`context.response`, kubeless' `event.extensions`). Only the commonly used
 * subset exists; the response records what user code does and becomes an `OutgoingResponse`.
 * Reference: https://expressjs.com/en/4x/api.html#req and #res.
 */
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { IncomingRequest, OutgoingResponse, ResponseHeaders } from '../model.js';
import {
  ContentTypes,
  expressSend,
  headerText,
  headerValue,
  mediaType,
  pathOf,
  queryOf,
  withDefaultType,
} from './body.js';

/** The request subset: the Express properties functions read. */
export interface ExpressLikeRequest {
  method: string;
  url: string;
  originalUrl: string;
  path: string;
  headers: IncomingHttpHeaders;
  query: Record<string, string | string[]>;
  params: Record<string, string>;
  body: unknown;
  hostname: string | undefined;
  protocol: string;
  get(name: string): string | undefined;
  header(name: string): string | undefined;
  is(type: string): boolean;
}

/** Builds the request object; `body` is decoded by the adapter (each platform parses differently). */
export function expressRequest(req: IncomingRequest, body: unknown): ExpressLikeRequest {
  const host = headerValue(req.headers, 'x-forwarded-host') ?? headerValue(req.headers, 'host');
  const get = (name: string): string | undefined => headerValue(req.headers, name);
  return {
    method: req.method,
    url: req.url,
    originalUrl: req.url,
    path: pathOf(req.url),
    headers: req.headers,
    query: queryOf(req.url),
    params: {},
    body,
    hostname: host?.replace(/:\d+$/, ''),
    protocol: headerValue(req.headers, 'x-forwarded-proto')?.split(',')[0]?.trim() ?? 'http',
    get,
    header: get,
    is: (type: string) => typeMatches(mediaType(req.headers), type),
  };
}

/** `req.is('json')`, `req.is('text/*')`, `req.is('application/json')`. */
function typeMatches(actual: string, wanted: string): boolean {
  if (actual === '') return false;
  const w = wanted.toLowerCase();
  if (!w.includes('/')) return actual.endsWith(`/${w}`) || actual.endsWith(`+${w}`);
  if (w.endsWith('/*')) return actual.startsWith(w.slice(0, -1));
  return actual === w;
}

/**
 * Records what user code does with an Express response. `finished` resolves when the user ends the
 * response (`send`, `json`, `end`, `sendStatus`), so adapters can wait for callback-style functions.
 */
export class ExpressLikeResponse {
  statusCode = 200;
  private headerMap: ResponseHeaders = {};
  private chunks: Buffer[] = [];
  private result: OutgoingResponse | undefined;
  private resolveFinished!: (res: OutgoingResponse) => void;
  /** Resolves with the response once user code ends it. */
  readonly finished: Promise<OutgoingResponse> = new Promise((resolve) => (this.resolveFinished = resolve));

  get headersSent(): boolean {
    return this.result !== undefined;
  }

  /** True once the response was ended (Node's `writableEnded`, Express' old `finished`). */
  get writableEnded(): boolean {
    return this.result !== undefined;
  }

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  set(field: string | Record<string, unknown>, value?: unknown): this {
    if (typeof field === 'string') {
      this.setHeader(field, value);
    } else {
      for (const [k, v] of Object.entries(field)) this.setHeader(k, v);
    }
    return this;
  }

  header(field: string | Record<string, unknown>, value?: unknown): this {
    return this.set(field, value);
  }

  setHeader(name: string, value: unknown): this {
    if (value !== undefined && value !== null) {
      this.headerMap[name.toLowerCase()] = Array.isArray(value) ? value.map(headerText) : headerText(value);
    }
    return this;
  }

  getHeader(name: string): string | string[] | undefined {
    return this.headerMap[name.toLowerCase()];
  }

  get(name: string): string | string[] | undefined {
    return this.getHeader(name);
  }

  removeHeader(name: string): void {
    delete this.headerMap[name.toLowerCase()];
  }

  type(type: string): this {
    const short: Record<string, string> = {
      json: ContentTypes.json,
      html: ContentTypes.html,
      text: ContentTypes.text,
    };
    return this.setHeader('content-type', short[type] ?? type);
  }

  writeHead(status: number, headers?: Record<string, unknown>): this {
    this.statusCode = status;
    if (headers) this.set(headers);
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  end(chunk?: string | Uint8Array): this {
    if (chunk !== undefined) this.write(chunk);
    return this.finish({
      status: this.statusCode,
      headers: this.headerMap,
      body: Buffer.concat(this.chunks),
    });
  }

  send(body?: unknown): this {
    if (this.chunks.length > 0)
      return this.end(typeof body === 'string' || body instanceof Uint8Array ? body : undefined);
    return this.finish(expressSend(this.statusCode, body, this.headerMap));
  }

  json(value: unknown): this {
    return this.finish({
      status: this.statusCode,
      headers: withDefaultType(this.headerMap, ContentTypes.json),
      body: JSON.stringify(value) ?? '',
    });
  }

  sendStatus(code: number): this {
    this.statusCode = code;
    return this.finish({
      status: code,
      headers: withDefaultType(this.headerMap, ContentTypes.text),
      body: STATUS_CODES[code] ?? String(code),
    });
  }

  /** The recorded response, if user code ended it. */
  get response(): OutgoingResponse | undefined {
    return this.result;
  }

  private finish(res: OutgoingResponse): this {
    // Like Express after the first send: later writes are ignored instead of throwing.
    if (this.result === undefined) {
      this.result = res;
      this.resolveFinished(res);
    }
    return this;
  }
}
