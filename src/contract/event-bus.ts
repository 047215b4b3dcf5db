/**
 * The event bus's names: the JetStream streams, the subject an event of a namespace is published on, the
 * durable consumer of an event function and its dead-letter subject. The controller creates what these name,
 * the ingest publishes to them and the runtime consumes from them; this module is the only place that spells
 * them. https://docs.nats.io/nats-concepts/subjects
 */
import type { FunctionEvents, FunctionSpec } from './function-spec.js';

/** Every event of every namespace: interest retention, so an event stays until each function took it. */
export const EVENTS_STREAM = 'CLOUDBASE_EVENTS';
const EVENTS_PREFIX = 'cloudbase.events';
export const EVENTS_SUBJECTS = `${EVENTS_PREFIX}.>`;

/** Every event subject of one namespace: where its functions and its publishers may publish. */
export function namespaceEventSubjects(namespace: string): string {
  return `${EVENTS_PREFIX}.${namespace}.>`;
}

/**
 * Dead-lettered events re-published to one function (`cloudbase.replay.<namespace>.<function>`): in the
 * events stream, but only that function's consumer takes them, so the functions that handled the event
 * the first time do not get it again.
 */
const REPLAY_PREFIX = 'cloudbase.replay';
export const REPLAY_SUBJECTS = `${REPLAY_PREFIX}.>`;

/** Events a function gave up on, kept (limits retention) until someone re-publishes or purges them. */
export const DEAD_LETTER_STREAM = 'CLOUDBASE_DEAD_LETTERS';
const DEAD_LETTER_PREFIX = 'cloudbase.deadletter';
export const DEAD_LETTER_SUBJECTS = `${DEAD_LETTER_PREFIX}.>`;

/** The headers a dead-lettered event carries besides its own. */
export const DeadLetterHeader = {
  reason: 'Cloudbase-Dead-Letter-Reason',
  attempts: 'Cloudbase-Dead-Letter-Attempts',
  /** The subject it was first published on (a replayed event keeps it). */
  subject: 'Cloudbase-Dead-Letter-Subject',
} as const;

export const DEFAULT_EVENT_MAX_ATTEMPTS = 5;
/** Short first, so a blip is retried soon; long last, so a dependency that is down gets time. */
export const DEFAULT_EVENT_BACKOFF_MS: readonly number[] = [1_000, 5_000, 30_000];
/**
 * Events in flight per pod. The runtime is one event loop and most handlers wait on I/O; 32 keeps such a
 * pod busy while a backlog still spreads over the pods a scale-out adds, since a pod holds no more than this.
 */
export const DEFAULT_EVENT_CONCURRENCY = 32;
export const MAX_EVENT_TYPES = 16;

/**
 * A CloudEvents `type` Cloudbase can route: segments separated by `.`, each of printable ASCII other than
 * space, `*` and `>` (the characters a NATS subject token cannot hold), at most 200 characters in all.
 * `orders.created` and `com.example.order:v1` are types; `orders..created` and `a b` are not.
 */
export function isEventType(type: string): boolean {
  return type.length <= 200 && type.split('.').every(isSegment);
}

/** An event type, or one whose last segment is `*`: it matches any one segment there, as in NATS. */
export function isEventTypePattern(pattern: string): boolean {
  const segments = pattern.split('.');
  const last = segments[segments.length - 1];
  const head = last === '*' ? segments.slice(0, -1) : segments;
  return pattern.length <= 200 && head.length > 0 && head.every(isSegment);
}

const SEGMENT = /^[!-~]+$/;
function isSegment(segment: string): boolean {
  return SEGMENT.test(segment) && !/[*>]/.test(segment);
}

/** Whether an event type is one a pattern matches. */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.endsWith('.*')) return pattern === type;
  const head = pattern.slice(0, -1);
  return type.startsWith(head) && type.length > head.length && !type.slice(head.length).includes('.');
}

/** The subject an event of `type` is published on in `namespace`; the type must pass `isEventType`. */
export function eventSubject(namespace: string, type: string): string {
  return `${EVENTS_PREFIX}.${namespace}.${type}`;
}

/** The subjects an event function's consumer takes: its patterns within its own namespace, and its replays. */
export function consumerFilterSubjects(
  spec: Pick<FunctionSpec, 'namespace' | 'name'>,
  events: FunctionEvents,
): string[] {
  return [
    ...events.types.map((pattern) => eventSubject(spec.namespace, pattern)),
    replaySubject(spec.namespace, spec.name),
  ];
}

/** Where dead-lettered events are re-published for the one function that gave up on them. */
export function replaySubject(namespace: string, functionName: string): string {
  return `${REPLAY_PREFIX}.${namespace}.${functionName}`;
}

export function isReplaySubject(subject: string): boolean {
  return subject.startsWith(`${REPLAY_PREFIX}.`);
}

/**
 * The durable consumer of an event function: `<namespace>_<function>`. Both are DNS labels, which hold no
 * `_`, so no two functions share one; a durable name may not hold `.`, `*` or `>`.
 * https://docs.nats.io/nats-concepts/jetstream/consumers#durable_name
 */
export function consumerName(namespace: string, functionName: string): string {
  return `${namespace}_${functionName}`;
}

/**
 * The consumer metadata key that marks a consumer as an event function's, `<namespace>/<function>`: the
 * controller's sweep deletes only consumers it marked, never one that someone else added to the stream.
 * https://docs.nats.io/nats-concepts/jetstream/consumers#metadata
 */
export const CONSUMER_FUNCTION_METADATA = 'cloudbase.dev/function';

/** Where an event function's dead-lettered events are published. */
export function deadLetterSubject(namespace: string, functionName: string): string {
  return `${DEAD_LETTER_PREFIX}.${namespace}.${functionName}`;
}

/** The dead-letter subjects of a namespace's functions: one, or all of them. */
export function deadLetterFilter(namespace: string, functionName?: string): string {
  return functionName === undefined
    ? `${DEAD_LETTER_PREFIX}.${namespace}.*`
    : deadLetterSubject(namespace, functionName);
}

/** The namespace and function of a dead-letter subject; undefined for any other subject. */
export function parseDeadLetterSubject(subject: string): { namespace: string; name: string } | undefined {
  const [prefix, kind, namespace, name, ...rest] = subject.split('.');
  if (`${prefix}.${kind}` !== DEAD_LETTER_PREFIX || rest.length > 0) return undefined;
  if (namespace === undefined || name === undefined || namespace === '' || name === '') return undefined;
  return { namespace, name };
}

/**
 * How long JetStream waits for an answer to one delivery before it delivers the event again: the handler's
 * deadline and a grace for the runtime to ack. Only a pod that died holds an event that long; a handler that
 * failed is naked with its backoff delay at once.
 */
export function ackWaitMs(timeoutMs: number): number {
  return timeoutMs + 10_000;
}

/** Why an event function cannot be admitted, or undefined: it needs the event bus to consume from. */
export function eventBusProblem(
  spec: Pick<FunctionSpec, 'trigger'>,
  eventsUrl: string | undefined,
): string | undefined {
  if (spec.trigger !== 'event' || eventsUrl !== undefined) return undefined;
  return `cloudbase.dev/trigger=event needs the event bus, and this Cloudbase was installed without one (controller flag --events-url); use cloudbase.dev/trigger=http, or install Cloudbase with its event bus (README, "Event functions")`;
}

/** The delay before the redelivery that follows attempt `attempt` (1 = the first delivery). */
export function backoffAfter(events: Pick<FunctionEvents, 'backoffMs'>, attempt: number): number {
  const delays = events.backoffMs;
  return delays[Math.min(Math.max(attempt, 1), delays.length) - 1] ?? 0;
}

/**
 * Whether a subject is one a consumer's filter takes, as NATS matches them: token by token, `*` any one
 * token, a last `>` one or more. https://docs.nats.io/nats-concepts/subjects#wildcards
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split('.');
  const have = subject.split('.');
  for (const [index, token] of want.entries()) {
    if (token === '>') return index === want.length - 1 && have.length > index;
    if (index >= have.length) return false;
    if (token !== '*' && token !== have[index]) return false;
  }
  return want.length === have.length;
}
