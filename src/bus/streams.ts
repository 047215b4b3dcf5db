/**
 * The event bus's JetStream objects as Cloudbase wants them: the events stream, the dead-letter stream and
 * one durable pull consumer per event function. The desired configurations are pure functions; `ensure*`
 * create or update what differs, and nothing else touches JetStream's management API.
 * https://docs.nats.io/nats-concepts/jetstream/streams, https://docs.nats.io/nats-concepts/jetstream/consumers
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import {
  ackWaitMs,
  consumerFilterSubjects,
  consumerName,
  CONSUMER_FUNCTION_METADATA,
  DEAD_LETTER_STREAM,
  DEAD_LETTER_SUBJECTS,
  EVENTS_STREAM,
  EVENTS_SUBJECTS,
  REPLAY_SUBJECTS,
} from '../contract/event-bus.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../contract/runtime-env.js';
import type { FunctionEvents, FunctionSpec } from '../contract/function-spec.js';

const DAY_MS = 86_400_000;

/**
 * The events stream: interest retention (an event stays until every consumer whose filter it matches took
 * it, so one event reaches several functions); a full stream refuses new events rather than dropping
 * accepted ones (DiscardNew), and publishers are told; two minutes of deduplication by `Nats-Msg-Id`.
 * https://docs.nats.io/nats-concepts/jetstream/streams#retentionpolicy
 */
export function eventsStreamConfig(replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: EVENTS_STREAM,
    description:
      'Cloudbase: the events of every namespace (cloudbase.events.<namespace>.<type>), and replays of dead letters (cloudbase.replay.<namespace>.<function>)',
    subjects: [EVENTS_SUBJECTS, REPLAY_SUBJECTS],
    retention: RetentionPolicy.Interest,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    num_replicas: replicas,
    max_age: nanos(7 * DAY_MS),
    max_bytes: 1024 ** 3,
    duplicate_window: nanos(120_000),
  };
}

/** Dead-lettered events, kept for two weeks (limits retention) to be read and re-published. */
export function deadLetterStreamConfig(replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: DEAD_LETTER_STREAM,
    description:
      'Cloudbase: events that event functions gave up on (cloudbase.deadletter.<namespace>.<function>)',
    subjects: [DEAD_LETTER_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    max_age: nanos(14 * DAY_MS),
    max_bytes: 512 * 1024 ** 2,
  };
}

/**
 * An event function's consumer: its types in its namespace, explicit acks, redelivery after the ack wait
 * (the handler's timeout and a grace) for an event whose pod died. No MaxDeliver: the runtime counts the
 * attempts (runtime/events/delivery.ts) and dead-letters an event once they are spent, so an event whose
 * dead-letter publish failed, or whose last attempt died with its pod, is offered again rather than left
 * unacknowledged for good. Events published from its creation on (an interest stream holds older ones only
 * for other functions). Ack-pending includes events waiting out a backoff delay, hence the generous bound.
 */
export function consumerConfig(
  spec: Pick<FunctionSpec, 'namespace' | 'name' | 'timeoutMs' | 'scaling'>,
  events: FunctionEvents,
): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: consumerName(spec.namespace, spec.name),
    description: `Cloudbase: event function ${spec.namespace}/${spec.name}`,
    metadata: { [CONSUMER_FUNCTION_METADATA]: `${spec.namespace}/${spec.name}` },
    filter_subjects: consumerFilterSubjects(spec, events),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs(spec.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)),
    max_deliver: -1,
    max_ack_pending: Math.max(10_000, spec.scaling.maxScale * events.concurrency),
    deliver_policy: DeliverPolicy.New,
  };
}

/** Creates the stream, or updates it where its configuration differs. */
export async function ensureStream(
  jsm: JetStreamManager,
  desired: Partial<StreamConfig> & { name: string },
): Promise<'created' | 'updated' | 'unchanged'> {
  const current = await jsm.streams.info(desired.name).catch(notFound);
  if (current === undefined) {
    await jsm.streams.add(desired);
    return 'created';
  }
  if (isSubsetOf(desired, current.config)) return 'unchanged';
  await jsm.streams.update(desired.name, { ...desired });
  return 'updated';
}

/** Creates the consumer, or updates it where its configuration differs. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  desired: Partial<ConsumerConfig> & { durable_name: string },
): Promise<'created' | 'updated' | 'unchanged'> {
  const current = await jsm.consumers.info(stream, desired.durable_name).catch(notFound);
  if (current === undefined) {
    await jsm.consumers.add(stream, desired);
    return 'created';
  }
  if (isSubsetOf(desired, current.config)) return 'unchanged';
  // The name and the deliver policy are fixed at creation; JetStream refuses an update that names them.
  const changeable: Partial<ConsumerConfig> = { ...desired };
  delete changeable.durable_name;
  delete changeable.deliver_policy;
  await jsm.consumers.update(stream, desired.durable_name, changeable);
  return 'updated';
}

/** Deletes the consumer; false when there was none. */
export async function deleteConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<boolean> {
  const deleted = await jsm.consumers.delete(stream, name).catch(notFound);
  return deleted === true;
}

/** The names of the stream's durable consumers. */
export async function consumerNames(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const names: string[] = [];
  for await (const info of jsm.consumers.list(stream)) names.push(info.name);
  return names;
}

/** The names of the stream's consumers that are event functions' (marked by consumerConfig's metadata). */
export async function functionConsumerNames(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const names: string[] = [];
  for await (const info of jsm.consumers.list(stream))
    if (info.config.metadata?.[CONSUMER_FUNCTION_METADATA] !== undefined) names.push(info.name);
  return names;
}

/** An event function's consumer, as its leader counts it: what the autoscaler scales on. */
export interface ConsumerBacklog {
  /** Events its filter takes that were not delivered yet. */
  pending: number;
  /** Delivered and not acknowledged: in a handler, or waiting out a backoff delay before the next attempt. */
  ackPending: number;
  /** Deliveries so far, redeliveries included (the consumer sequence). */
  delivered: number;
}

/**
 * The backlogs of the named consumers, each read from its own leader (`CONSUMER.INFO` is answered by the
 * consumer's leader only, so the numbers are never a follower's stale ones: KEDA's JetStream scaler read a
 * follower's monitoring endpoint and scaled on stale lag, kedacore/keda#3860). Read one by one, at most
 * `parallel` at a time, so a consumer without a leader (a server restarting) costs only its own number, and
 * each within `deadlineMs`. A consumer that does not exist, has no leader, or did not answer in time is
 * absent rather than reported empty. https://docs.nats.io/reference/reference-protocols/nats_api_reference
 */
export async function consumerBacklogs(
  jsm: JetStreamManager,
  stream: string,
  names: readonly string[],
  { parallel = 32, deadlineMs = 1_500 }: { parallel?: number; deadlineMs?: number } = {},
): Promise<Map<string, ConsumerBacklog>> {
  const backlogs = new Map<string, ConsumerBacklog>();
  const read = async (name: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), deadlineMs);
    });
    const info = await Promise.race([jsm.consumers.info(stream, name).catch(() => undefined), late]);
    clearTimeout(timer);
    // A standalone server reports no cluster: it is the only one, so its numbers are the leader's.
    if (info === undefined || (info.cluster !== undefined && (info.cluster.leader ?? '') === '')) return;
    backlogs.set(name, {
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      delivered: info.delivered.consumer_seq,
    });
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, names.length) }, async () => {
      while (next < names.length) await read(names[next++]!);
    }),
  );
  return backlogs;
}

/** The filter subjects of every consumer of the stream (a consumer without a filter takes the whole stream). */
export async function consumerFilters(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const filters: string[] = [];
  for await (const info of jsm.consumers.list(stream)) {
    const { filter_subject: one, filter_subjects: many } = info.config;
    if (many !== undefined && many.length > 0) filters.push(...many);
    else filters.push(one !== undefined && one !== '' ? one : '>');
  }
  return filters;
}

/** Whether JetStream answered that the stream does not exist. */
export function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/** JetStream answers "not found" with an API error; undefined for that, rethrown for anything else. */
function notFound(error: unknown): undefined {
  if (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound)
  )
    return undefined;
  throw error;
}

/**
 * Every desired field equals the server's (arrays element by element, objects field by field); the server
 * adds defaults of its own, and metadata keys of its own (`_nats.*`).
 */
function isSubsetOf(desired: object, current: object): boolean {
  const actual = current as Record<string, unknown>;
  return Object.entries(desired).every(([key, value]) => {
    const have = actual[key];
    if (isRecord(value) && isRecord(have)) return isSubsetOf(value, have);
    return JSON.stringify(have) === JSON.stringify(value);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
