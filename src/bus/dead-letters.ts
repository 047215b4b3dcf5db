/**
 * The dead-letter queue as an operator uses it: list a namespace's dead-lettered events, and replay them to
 * the function that gave up on them, once it is fixed. A replay publishes the event as it was (its own
 * headers and data) on that function's replay subject, which only its consumer takes (the functions that
 * handled the event the first time do not get it again), and deletes the dead letter only once JetStream
 * acknowledged the publish: a replay interrupted anywhere loses nothing, and one retried within the events
 * stream's deduplication window publishes each event once (its message id is the dead letter's).
 * https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive#message-deduplication
 */
import type { JetStreamClient, JetStreamManager, JsMsg, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import {
  DeadLetterHeader,
  DEAD_LETTER_STREAM,
  deadLetterFilter,
  parseDeadLetterSubject,
  replaySubject,
} from '../contract/event-bus.js';
import { MSG_ID_HEADER, readEventHeaders } from '../contract/event-message.js';
import { isStreamNotFound } from './streams.js';

/** One dead-lettered event, as `cloudbase dead-letters list` prints it. */
export interface DeadLetter {
  /** Its sequence in the dead-letter stream: what `replay --seq` names. */
  seq: number;
  namespace: string;
  function: string;
  /** When it was dead-lettered (RFC 3339). */
  time: string;
  reason: string;
  attempts: number;
  /** The subject it was first published on. */
  subject: string;
  /** Its CloudEvent attributes; absent for a message that was no CloudEvent (the reason says so). */
  event?: { id: string; source: string; type: string };
  bytes: number;
}

export interface DeadLetterQuery {
  namespace: string;
  /** One function's; all of the namespace's without. */
  function?: string;
  /** At most this many, oldest first. */
  limit: number;
}

/** The namespace's dead letters (or one function's), oldest first, at most `limit`. */
export async function listDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  query: DeadLetterQuery,
): Promise<DeadLetter[]> {
  const filter = deadLetterFilter(query.namespace, query.function);
  const stored = await storedCount(jsm, filter);
  const letters: DeadLetter[] = [];
  if (stored === 0) return letters;
  // An ordered consumer: ephemeral, server-side filtered, gone when the reader is; it moves no dead letter.
  const reader = await js.consumers.get(DEAD_LETTER_STREAM, { filter_subjects: [filter] });
  try {
    while (letters.length < Math.min(stored, query.limit)) {
      const msg = await reader.next({ expires: 2_000 });
      if (msg === null) break;
      letters.push(describe(msg));
      if (msg.info.pending === 0) break;
    }
  } finally {
    await reader.delete().catch(() => undefined);
  }
  return letters;
}

/** What became of each dead letter a replay was asked for. */
export interface ReplayOutcome {
  seq: number;
  outcome: 'replayed' | 'failed';
  /** Why it failed, or what is left to do after a replay that could not delete the dead letter. */
  problem?: string;
}

/**
 * Replays the dead letters `seqs` of `namespace`/`fn` to that function, one after another; a sequence that
 * is not one of that function's dead letters fails by name and the others go on.
 */
export async function replayDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  target: { namespace: string; function: string },
  seqs: readonly number[],
): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  for (const seq of seqs) outcomes.push(await replayOne(js, jsm, target, seq));
  return outcomes;
}

async function replayOne(
  js: JetStreamClient,
  jsm: JetStreamManager,
  target: { namespace: string; function: string },
  seq: number,
): Promise<ReplayOutcome> {
  const failed = (problem: string): ReplayOutcome => ({ seq, outcome: 'failed', problem });
  let stored: StoredMsg | null;
  try {
    stored = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq });
  } catch (error) {
    return failed(`could not read dead letter ${seq}: ${String(error)}`);
  }
  if (stored === null) return failed(`dead letter ${seq} does not exist (replayed or expired already?)`);
  const owner = parseDeadLetterSubject(stored.subject);
  if (owner?.namespace !== target.namespace || owner.name !== target.function)
    return failed(
      `dead letter ${seq} is not one of ${target.namespace}/${target.function}'s (it is on ${stored.subject})`,
    );
  try {
    await js.publish(replaySubject(target.namespace, target.function), stored.data, {
      headers: replayHeaders(stored.header, stored.subject, seq, stored.time),
    });
  } catch (error) {
    return failed(`could not publish dead letter ${seq} again; it is kept: ${String(error)}`);
  }
  try {
    await jsm.streams.deleteMessage(DEAD_LETTER_STREAM, seq, false);
  } catch (error) {
    return {
      seq,
      outcome: 'replayed',
      problem: `replayed, but the dead letter could not be deleted (${String(error)}); a later replay would deliver it again`,
    };
  }
  return { seq, outcome: 'replayed' };
}

/**
 * The event's own headers without the dead-letter ones, the subject it was first published on, and a
 * message id of the dead letter's own (its sequence and time: unique even if the stream is made again).
 */
function replayHeaders(stored: MsgHdrs, deadLetterSubject: string, seq: number, time: Date): MsgHdrs {
  const headers = natsHeaders();
  const dropped = new Set([DeadLetterHeader.reason, DeadLetterHeader.attempts, MSG_ID_HEADER].map(lower));
  for (const [name, values] of stored) {
    if (!dropped.has(lower(name)) && values[0] !== undefined) headers.set(name, values[0]);
  }
  if (!headers.has(DeadLetterHeader.subject)) headers.set(DeadLetterHeader.subject, deadLetterSubject);
  headers.set(MSG_ID_HEADER, `replay-${seq}-${time.getTime()}`);
  return headers;
}

function describe(msg: JsMsg): DeadLetter {
  const header = (name: string): string => msg.headers?.get(name) ?? '';
  const owner = parseDeadLetterSubject(msg.subject);
  const entries: [string, string][] = [];
  for (const [name, values] of msg.headers ?? [])
    if (values[0] !== undefined) entries.push([name, values[0]]);
  const attributes = readEventHeaders(entries);
  return {
    seq: msg.seq,
    namespace: owner?.namespace ?? '',
    function: owner?.name ?? '',
    time: new Date(msg.info.timestampNanos / 1_000_000).toISOString(),
    reason: header(DeadLetterHeader.reason),
    attempts: Number(header(DeadLetterHeader.attempts)) || 0,
    subject: header(DeadLetterHeader.subject),
    ...(attributes instanceof Error
      ? {}
      : { event: { id: attributes.id, source: attributes.source, type: attributes.type } }),
    bytes: msg.data.length,
  };
}

/** How many messages the dead-letter stream holds on the filter; none before the stream exists. */
async function storedCount(jsm: JetStreamManager, filter: string): Promise<number> {
  try {
    const info = await jsm.streams.info(DEAD_LETTER_STREAM, { subjects_filter: filter });
    return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  } catch (error) {
    if (isStreamNotFound(error)) return 0;
    throw error;
  }
}

const lower = (name: string): string => name.toLowerCase();
