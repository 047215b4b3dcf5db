/**
 * Publishing an event into a namespace: its subject from its type, its attributes as NATS headers (the
 * `Nats-Msg-Id` included, so a retried publish lands once), resolved once JetStream stored it. The ingest
 * publishes what publishers POST, the runtime a handler's reply events.
 * https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive#message-deduplication
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { eventSubject } from '../contract/event-bus.js';
import { eventHeaders, eventMessageId, MSG_ID_HEADER } from '../contract/event-message.js';
import type { BusEvent } from './http-events.js';

/** Publishes an event into the namespace, waiting for JetStream's acknowledgement (`duplicate` when it had it). */
export async function publish(js: JetStreamClient, namespace: string, event: BusEvent): Promise<PubAck> {
  const headers = natsHeaders();
  for (const [name, value] of eventHeaders(event.attributes)) headers.set(name, value);
  headers.set(MSG_ID_HEADER, eventMessageId(namespace, event.attributes));
  return js.publish(eventSubject(namespace, event.attributes.type), event.data, { headers });
}
