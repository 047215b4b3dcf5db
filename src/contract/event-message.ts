/**
 * An event as it travels on the bus: a NATS message in the CloudEvents NATS binding's binary content mode,
 * each attribute a `ce-` header, `datacontenttype` the `content-type` header, the data the payload as is.
 * The ingest and the runtime's reply publisher write it, the runtime reads it; a reader of the stream with
 * `nats` sees the data itself.
 * https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/nats-protocol-binding.md#31-binary-content-mode
 */
import { createHash } from 'node:crypto';

/** A CloudEvent's context attributes, as strings (their canonical string form). */
export interface EventAttributes {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  /** Extension attributes by name (lowercase letters and digits). */
  extensions?: Record<string, string>;
}

const CORE = ['specversion', 'id', 'source', 'type', 'time', 'subject', 'dataschema'] as const;
const CE = 'ce-';
const CONTENT_TYPE = 'content-type';

/**
 * JetStream drops a publish whose `Nats-Msg-Id` it stored within the stream's duplicate window, which makes
 * a retried publish of one event (same `source` and `id`, the CloudEvents identity) land once.
 * https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive#message-deduplication
 */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/**
 * The `Nats-Msg-Id` of an event published into a namespace: a digest of the namespace, its source and its id
 * (any of which may hold any character). The namespace is part of it: one stream holds every namespace, and
 * an event of one tenant must never make another's with the same source and id a duplicate.
 */
export function eventMessageId(
  namespace: string,
  attributes: Pick<EventAttributes, 'source' | 'id'>,
): string {
  return createHash('sha256')
    .update(JSON.stringify([namespace, attributes.source, attributes.id]))
    .digest('hex');
}

/** The NATS headers of an event's attributes (the publisher adds the `Nats-Msg-Id`). */
export function eventHeaders(attributes: EventAttributes): [string, string][] {
  const headers: [string, string][] = [];
  for (const name of CORE) {
    const value = attributes[name];
    if (value !== undefined) headers.push([`${CE}${name}`, value]);
  }
  for (const [name, value] of Object.entries(attributes.extensions ?? {}))
    headers.push([`${CE}${name}`, value]);
  if (attributes.datacontenttype !== undefined) headers.push([CONTENT_TYPE, attributes.datacontenttype]);
  return headers;
}

/**
 * The attributes of an event read back from its NATS headers (names compared without case), or the reason
 * it is not an event: a message on the events subjects that lacks a required attribute.
 */
export function readEventHeaders(headers: Iterable<readonly [string, string]>): EventAttributes | Error {
  const values = new Map<string, string>();
  for (const [name, value] of headers) values.set(name.toLowerCase(), value);
  const required = ['specversion', 'id', 'source', 'type'] as const;
  const missing = required.filter((name) => values.get(`${CE}${name}`) === undefined);
  if (missing.length > 0)
    return new Error(
      `the message is not a CloudEvent: it has no ${missing.map((m) => CE + m).join(', ')} header`,
    );
  const attributes: EventAttributes = {
    specversion: values.get(`${CE}specversion`)!,
    id: values.get(`${CE}id`)!,
    source: values.get(`${CE}source`)!,
    type: values.get(`${CE}type`)!,
  };
  const extensions: Record<string, string> = {};
  for (const [name, value] of values) {
    if (!name.startsWith(CE)) continue;
    const attribute = name.slice(CE.length);
    if ((required as readonly string[]).includes(attribute)) continue;
    if ((CORE as readonly string[]).includes(attribute))
      (attributes as unknown as Record<string, string>)[attribute] = value;
    else extensions[attribute] = value;
  }
  const contentType = values.get(CONTENT_TYPE);
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  if (Object.keys(extensions).length > 0) attributes.extensions = extensions;
  return attributes;
}
