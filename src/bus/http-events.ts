/**
 * CloudEvents over HTTP, decoded by the `cloudevents` SDK in any of its three modes (binary, structured,
 * batch) into what the bus carries: attributes and the data's bytes. The ingest decodes what publishers POST,
 * the runtime what an event handler answers (a reply event). The SDK invents an `id` that is missing, which
 * would defeat deduplication by `source` + `id`: the required attributes are checked before it runs.
 * https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/http-protocol-binding.md
 */
import { HTTP, type CloudEvent } from 'cloudevents';
import type { IncomingHttpHeaders } from 'node:http';
import type { EventAttributes } from '../contract/event-message.js';

/** One event as the bus carries it. */
export interface BusEvent {
  attributes: EventAttributes;
  data: Uint8Array;
}

export type DecodeResult = { ok: true; events: BusEvent[] } | { ok: false; problem: string };

const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;
const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const CORE = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
]);

/** Whether an HTTP message is a CloudEvent at all (a plain answer of a handler is not). */
export function isHttpEvent(headers: IncomingHttpHeaders): boolean {
  const type = mediaType(headers);
  return type === STRUCTURED || type === BATCH || headers['ce-type'] !== undefined;
}

/** The events of an HTTP message, or what is wrong with it, in a sentence for a 400 answer. */
export function decodeHttpEvents(headers: IncomingHttpHeaders, body: Buffer): DecodeResult {
  const type = mediaType(headers);
  const structured = type === STRUCTURED || type === BATCH;
  const problem = structured ? structuredProblem(body, type === BATCH) : binaryProblem(headers);
  if (problem !== undefined) return { ok: false, problem };
  let events: CloudEvent<unknown>[];
  try {
    // The SDK reads a structured body only as text; binary data stays bytes.
    const decoded = HTTP.toEvent({ headers, body: structured ? body.toString('utf8') : body });
    events = (Array.isArray(decoded) ? decoded : [decoded]) as CloudEvent<unknown>[];
    for (const event of events) event.validate();
  } catch (error) {
    return { ok: false, problem: `the CloudEvent is not valid: ${describe(error)}` };
  }
  if (events.length === 0) return { ok: false, problem: 'the batch holds no event' };
  const unsupported = events.find((event) => event.specversion !== '1.0');
  if (unsupported !== undefined)
    return {
      ok: false,
      problem: `specversion ${JSON.stringify(unsupported.specversion)} is not supported; use 1.0`,
    };
  return { ok: true, events: events.map(toBusEvent) };
}

function mediaType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function binaryProblem(headers: IncomingHttpHeaders): string | undefined {
  const missing = REQUIRED.filter((name) => typeof headers[`ce-${name}`] !== 'string');
  if (missing.length === REQUIRED.length)
    return `the request is not a CloudEvent: send ce-specversion, ce-id, ce-source and ce-type headers (binary mode), or a body of content type ${STRUCTURED} or ${BATCH}`;
  if (missing.length > 0)
    return `the CloudEvent has no ${missing.map((name) => `ce-${name}`).join(', ')} header`;
  return specVersionProblem(headers['ce-specversion']);
}

function structuredProblem(body: Buffer, batch: boolean): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return `the body is not JSON: ${describe(error)}`;
  }
  if (batch && !Array.isArray(parsed)) return `a ${BATCH} body is a JSON array of events`;
  const items = batch ? (parsed as unknown[]) : [parsed];
  for (const [index, item] of items.entries()) {
    const where = batch ? `event ${index} of the batch` : 'the CloudEvent';
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      return `${where} is not a JSON object`;
    const missing = REQUIRED.filter((name) => typeof (item as Record<string, unknown>)[name] !== 'string');
    if (missing.length > 0) return `${where} has no ${missing.join(', ')}`;
    const version = specVersionProblem((item as Record<string, unknown>)['specversion']);
    if (version !== undefined) return batch ? `${where}: ${version}` : version;
  }
  return undefined;
}

/** The SDK would take any version for 1.0; an event of another version means something else. */
function specVersionProblem(version: unknown): string | undefined {
  return version === '1.0' ? undefined : `specversion ${JSON.stringify(version)} is not supported; use 1.0`;
}

function toBusEvent(event: CloudEvent<unknown>): BusEvent {
  const attributes: EventAttributes = {
    specversion: event.specversion,
    id: event.id,
    source: event.source,
    type: event.type,
  };
  if (event.time !== undefined) attributes.time = event.time;
  if (event.subject !== undefined) attributes.subject = event.subject;
  if (event.dataschema !== undefined) attributes.dataschema = event.dataschema;
  if (event.datacontenttype !== undefined) attributes.datacontenttype = event.datacontenttype;
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (CORE.has(name) || name === 'data' || name === 'data_base64' || value === undefined) continue;
    extensions[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  if (Object.keys(extensions).length > 0) attributes.extensions = extensions;
  return { attributes, data: dataBytes(event) };
}

/** The data's bytes: as sent when the SDK kept them (data_base64), else its JSON or text. */
function dataBytes(event: CloudEvent<unknown>): Uint8Array {
  if (typeof event.data_base64 === 'string') return Buffer.from(event.data_base64, 'base64');
  const data = event.data;
  if (data === undefined || data === null) return new Uint8Array();
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(JSON.stringify(data), 'utf8');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // The SDK's ValidationError carries the schema's complaints (ajv's) apart from its message.
  const errors = (error as { errors?: unknown[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return error.message.split('\n', 1)[0]!;
  return errors
    .map((e) => {
      if (typeof e !== 'object' || e === null) return String(e);
      const { instancePath, message } = e as { instancePath?: string; message?: string };
      return `${(instancePath ?? '').replace(/^\//, '') || 'the event'} ${message ?? 'is invalid'}`;
    })
    .join('; ');
}
