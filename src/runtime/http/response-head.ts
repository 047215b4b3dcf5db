/**
 * The status line and headers the function server writes for an `OutgoingResponse`: the user's headers
 * (lower-cased) without the ones the HTTP layer owns, a default content type, the length and the request
 * id. Pure, so every rule is unit-tested. The defaults are the ones the runtime's answers had when it ran
 * on Fastify (`reply.send`), so no function sees a different answer.
 */
import type { OutgoingResponse, ResponseHeaders } from '../model.js';
import { ContentTypes } from '../signatures/body.js';

/** What `res.writeHead(status, headers)` and `res.end(body)` are called with. */
export interface ResponseHead {
  status: number;
  headers: ResponseHeaders;
  body: Buffer | string;
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

/** Statuses Node can write (the range Fastify's `reply.code` accepted); anything else is the function's bug. */
export function isValidStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 100 && status <= 599;
}

/** The head and body to write for `response`, answering request `requestId`. */
export function responseHead(response: OutgoingResponse, requestId: string): ResponseHead {
  const headers = writableHeaders(response.headers);
  const { status } = response;
  // A 204 has no content, so neither type nor length (RFC 9110 §6.4.1, §8.6).
  const noContent = status === 204 || status < 200;
  const body = noContent ? '' : response.body;
  if (noContent) {
    delete headers['content-type'];
  } else {
    const type = headers['content-type'];
    if (type === undefined) {
      headers['content-type'] = typeof body === 'string' ? ContentTypes.text : ContentTypes.binary;
    } else if (typeof body === 'string' && typeof type === 'string' && needsCharset(type)) {
      headers['content-type'] = `${type}; charset=utf-8`;
    }
  }
  headers['x-request-id'] = requestId;
  if (!noContent) {
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  }
  return { status, headers, body };
}

/** A JSON media type (`application/json`, `application/ld+json`, ...) given as text without a charset. */
function needsCharset(type: string): boolean {
  const lower = type.toLowerCase();
  const semicolon = lower.indexOf(';');
  const media = semicolon === -1 ? lower : lower.slice(0, semicolon);
  return media.includes('json') && !/;\s*charset\s*=/.test(lower);
}

/** The user's response headers, names lower-cased, without the ones the server must set. */
export function writableHeaders(headers: ResponseHeaders): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (!OWNED_HEADERS.has(lower)) out[lower] = headers[name]!;
  }
  return out;
}
