/**
 * The event annotations of `cloudbase.dev/trigger: event` functions, one parser each: values in, a value or
 * the problem out (src/contract/parse.ts names the annotation in the message).
 */
import { isEventTypePattern, MAX_EVENT_TYPES } from './event-bus.js';
import type { FieldResult } from './fields.js';

const ok = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const bad = <T>(problem: string): FieldResult<T> => ({ ok: false, problem });

/** `cloudbase.dev/events`: comma-separated CloudEvents type patterns, duplicates dropped. */
export function parseEventTypes(value: string): FieldResult<string[]> {
  const patterns = value.split(',').map((item) => item.trim());
  if (patterns.some((pattern) => pattern === ''))
    return bad('has an empty type; use comma-separated CloudEvents types, e.g. orders.created,orders.*');
  const invalid = patterns.find((pattern) => !isEventTypePattern(pattern));
  if (invalid !== undefined) {
    return bad(
      `has ${JSON.stringify(invalid)}, which is not an event type pattern: segments separated by '.', of printable characters other than space, '*' and '>', and an optional last segment '*' that matches any one segment (orders.* takes orders.created, not orders.created.v2)`,
    );
  }
  const unique = [...new Set(patterns)];
  if (unique.length > MAX_EVENT_TYPES)
    return bad(`has ${unique.length} types, more than ${MAX_EVENT_TYPES}; use a pattern such as orders.*`);
  return ok(unique);
}

/** A whole number from `min` to `max`, written plainly. */
function wholeNumber(value: string, min: number, max: number, example: string): FieldResult<number> {
  const n = /^(0|[1-9]\d{0,6})$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return ok(n);
  return bad(`is not a whole number from ${min} to ${max}; use e.g. ${example}`);
}

/** `cloudbase.dev/event-max-attempts`: deliveries of one event, the first included. */
export const parseEventMaxAttempts = (value: string): FieldResult<number> =>
  wholeNumber(value, 1, 100, '5, or 1 to dead-letter an event its first failure');

/** `cloudbase.dev/event-concurrency`: events one pod handles at once. */
export const parseEventConcurrency = (value: string): FieldResult<number> =>
  wholeNumber(value, 1, 1_000, '32, or 1 to handle events one at a time in each pod');

const DELAY = /^(\d+)(ms|s|m|h)$/;
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_DELAY_MS = 12 * 3_600_000;
const MAX_DELAYS = 20;

/** `cloudbase.dev/event-backoff`: the delays before each redelivery, e.g. `1s,5s,30s`; the last repeats. */
export function parseEventBackoff(value: string): FieldResult<number[]> {
  const items = value.split(',').map((item) => item.trim());
  if (items.length > MAX_DELAYS)
    return bad(`has ${items.length} delays, more than ${MAX_DELAYS}; the last delay repeats, so end with it`);
  const delays: number[] = [];
  for (const item of items) {
    const match = DELAY.exec(item);
    const ms = match === null ? NaN : Number(match[1]) * UNITS[match[2] as keyof typeof UNITS];
    if (!Number.isSafeInteger(ms) || ms > MAX_DELAY_MS) {
      return bad(
        `has ${JSON.stringify(item)}, which is not a delay from 0s to 12h; use comma-separated whole numbers of ms, s, m or h, e.g. 1s,5s,30s`,
      );
    }
    delays.push(ms);
  }
  return ok(delays);
}
