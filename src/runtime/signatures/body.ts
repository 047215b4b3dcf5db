/**
 * Pure helpers shared by the adapters: reading headers, parsing the query and decoding a raw body the way
 * Express' body-parser (OpenFaaS, Fission, kubeless) or faas-js-runtime (knative) would.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ClientError, type IncomingRequest, type OutgoingResponse, type ResponseHeaders } from '../model.js';

/** The first value of a header, as Express' `req.get()` returns it. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(headers: IncomingHttpHeaders): string {
  return (headerValue(headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** `application/json` and every `+json` type (e.g. `application/cloudevents+json`). */
export function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/** The path of a request URL without the query string. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A query string (or form body) as an object; repeated keys become arrays, as Express does. */
export function parseQuery(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** The query of a request URL as an object. */
export function queryOf(url: string): Record<string, string | string[]> {
  const q = url.indexOf('?');
  return q === -1 ? {} : parseQuery(url.slice(q + 1));
}

/** Parses a JSON body; malformed JSON is the client's fault (400), as with body-parser. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ClientError(400, `Bad Request: the body is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Decodes a body like an Express app with the json, urlencoded and text parsers: JSON → value,
 * form → object, `text/*` → string, anything else → the raw Buffer. Without a body, body-parser leaves
 * `req.body` as `{}`, so that is what Express-based platforms' users get.
 */
export function decodeExpressBody(req: Pick<IncomingRequest, 'headers' | 'body'>, defaultType = ''): unknown {
  if (req.body.length === 0) return {};
  const type = mediaType(req.headers) || defaultType;
  if (isJsonType(type)) return parseJsonBody(req.body);
  if (type === 'application/x-www-form-urlencoded') return parseQuery(req.body.toString('utf8'));
  if (type.startsWith('text/')) return req.body.toString('utf8');
  return req.body;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const BINARY_TYPE = 'application/octet-stream';

/** Sets `content-type` unless the user already set one (header names compared case-insensitively). */
export function withDefaultType(headers: ResponseHeaders, type: string): ResponseHeaders {
  return findHeader(headers, 'content-type') === undefined ? { ...headers, 'content-type': type } : headers;
}

/** The value of a response header, matching the name case-insensitively. */
export function findHeader(headers: ResponseHeaders, name: string): string | string[] | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** Copies user-supplied headers into our model: lower-cased names, numbers and booleans as strings. */
export function normaliseHeaders(input: unknown): ResponseHeaders {
  const out: ResponseHeaders = {};
  if (typeof input !== 'object' || input === null) return out;
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map(headerText) : headerText(value);
  }
  return out;
}

/** A header value from user code as text: strings as they are, numbers and booleans printed, else JSON. */
export function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

/** A JSON response. */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: ResponseHeaders = {},
): OutgoingResponse {
  return { status, headers: withDefaultType(headers, JSON_TYPE), body: JSON.stringify(value) ?? '' };
}

/** A plain-text response (used for our own error answers too). */
export function textResponse(status: number, text: string, headers: ResponseHeaders = {}): OutgoingResponse {
  return { status, headers: withDefaultType(headers, TEXT_TYPE), body: text };
}

/**
 * Express' `res.send(body)`: a string is HTML unless a type is set, a Buffer is octet-stream, null/undefined
 * is empty, anything else is JSON. (OpenFaaS, Fission and kubeless users get what they got there.)
 */
export function expressSend(status: number, body: unknown, headers: ResponseHeaders): OutgoingResponse {
  if (body === undefined || body === null) return { status, headers, body: '' };
  if (typeof body === 'string') return { status, headers: withDefaultType(headers, HTML_TYPE), body };
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    return {
      status,
      headers: withDefaultType(headers, BINARY_TYPE),
      body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    };
  }
  return jsonResponse(status, body, headers);
}

export const ContentTypes = {
  json: JSON_TYPE,
  text: TEXT_TYPE,
  html: HTML_TYPE,
  binary: BINARY_TYPE,
} as const;
