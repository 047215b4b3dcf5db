/**
 * What the runtime and the activator report on their admin port for the autoscaler: `GET /stats`, a small
 * JSON document rather than the Prometheus text, since the autoscaler reads every pod about once a second.
 * Counters are cumulative from the process's start, as Prometheus counters are, so any number of readers
 * can each take differences between two reads, and a missed read loses nothing.
 */
export const STATS_PATH = '/stats';

/** One runtime's counters at one instant. */
export interface RuntimeStats {
  /** Seconds on the process's own monotonic clock when these were read: the base of rates. */
  at: number;
  /** Requests in flight now. */
  inFlight: number;
  /** The integral of in-flight requests over time, in request-seconds: its rate is the mean concurrency. */
  concurrencySeconds: number;
  /** Requests answered. */
  requests: number;
}

/** What the activator holds and has seen, per function (`namespace/name`). */
export interface ActivatorStats {
  at: number;
  functions: Record<string, { held: number; heldSeconds: number; requests: number }>;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Reads a runtime's `/stats` answer, or says what is wrong with it. */
export function parseRuntimeStats(body: unknown): RuntimeStats | Error {
  const o = body as Partial<Record<keyof RuntimeStats, unknown>> | null;
  if (typeof o !== 'object' || o === null) return new Error('stats are not a JSON object');
  for (const key of ['at', 'inFlight', 'concurrencySeconds', 'requests'] as const) {
    if (!isCount(o[key])) return new Error(`stats field ${key} is not a non-negative number`);
  }
  return o as RuntimeStats;
}

/** Reads the activator's `/stats` answer, or says what is wrong with it. */
export function parseActivatorStats(body: unknown): ActivatorStats | Error {
  const o = body as { at?: unknown; functions?: unknown } | null;
  if (typeof o !== 'object' || o === null) return new Error('activator stats are not a JSON object');
  if (!isCount(o.at)) return new Error('activator stats field at is not a non-negative number');
  if (typeof o.functions !== 'object' || o.functions === null)
    return new Error('activator stats field functions is not an object');
  for (const [key, value] of Object.entries(o.functions as Record<string, unknown>)) {
    const v = value as Record<string, unknown> | null;
    if (
      typeof v !== 'object' ||
      v === null ||
      !isCount(v.held) ||
      !isCount(v.heldSeconds) ||
      !isCount(v.requests)
    )
      return new Error(`activator stats for ${key} need non-negative held, heldSeconds and requests`);
  }
  return o as ActivatorStats;
}

/**
 * The mean concurrency between two reads of one process, or undefined when they cannot be compared (the
 * process restarted, or no time passed).
 */
export function meanConcurrency(before: RuntimeStats, after: RuntimeStats): number | undefined {
  const seconds = after.at - before.at;
  if (
    seconds <= 0 ||
    after.concurrencySeconds < before.concurrencySeconds ||
    after.requests < before.requests
  )
    return undefined;
  return (after.concurrencySeconds - before.concurrencySeconds) / seconds;
}
