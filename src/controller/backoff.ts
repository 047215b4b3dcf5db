/** Exponential backoff, as client-go's ItemExponentialFailureRateLimiter: base · 2^(failures − 1), capped. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const RECONCILE_BACKOFF: BackoffPolicy = { baseMs: 50, maxMs: 60_000 };
/** A failing list or watch is retried after 1 s, 2 s, 4 s ... up to 30 s (jittered: jitteredBackoff). */
export const WATCH_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000 };

/** Delay before retry number `failures` (1 for the first retry). */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  // 2^failures overflows to Infinity long after the cap; min() keeps it finite.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (failures - 1));
}

/**
 * The delay with "equal jitter": half of it fixed, half random, so that replicas (or caches) that failed
 * together do not retry together. `random` returns [0, 1), as Math.random.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function jitteredBackoff(failures: number, policy: BackoffPolicy, random: () => number): number {
  const delay = backoffDelay(failures, policy);
  return Math.round(delay / 2 + random() * (delay / 2));
}
