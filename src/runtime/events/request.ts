/**
 * An event as the handler receives it: the HTTP request a push delivery would have made, in the CloudEvents
 * HTTP binding's binary content mode (`ce-*` headers, the data as the body), plus the headers Kubeless
 * functions read their event from. Every signature adapter then gives it to user code in its own form: a
 * `Request` (fetch), a request object (OpenFaaS, Fission), a CloudEvent (Knative), an `event` (Kubeless).
 * https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/http-protocol-binding.md#31-binary-content-mode
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { eventHeaders, type EventAttributes } from '../../contract/event-message.js';
import type { IncomingRequest } from '../model.js';

/** The delivery attempt (1 for the first), which a handler may read to act differently on a retry. */
export const ATTEMPT_HEADER = 'x-cloudbase-event-attempt';

export interface DeliveredEvent {
  attributes: EventAttributes;
  data: Uint8Array;
  attempt: number;
}

/** The request the handler is called with for one delivery of an event. */
export function eventRequest(event: DeliveredEvent, signal: AbortSignal, log: Logger): IncomingRequest {
  const { attributes } = event;
  const headers: IncomingHttpHeaders = {};
  // The HTTP binding's binary mode names the attributes as the NATS one does: the bus's headers, as they are.
  for (const [name, value] of eventHeaders(attributes)) headers[name.toLowerCase()] = value;
  // Kubeless' HTTP event headers (its `event` object's event-id, event-type, event-time, event-namespace).
  headers['event-id'] = attributes.id;
  headers['event-type'] = attributes.type;
  if (attributes.time !== undefined) headers['event-time'] = attributes.time;
  headers['event-namespace'] = attributes.source;
  headers[ATTEMPT_HEADER] = String(event.attempt);
  headers['x-request-id'] = attributes.id;
  const body = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength);
  headers['content-length'] = String(body.length);
  return { method: 'POST', url: '/', headers, body, requestId: attributes.id, signal, log };
}
