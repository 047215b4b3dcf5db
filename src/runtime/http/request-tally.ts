/**
 * Answered requests counted by method and status, with their durations in histogram buckets, as plain
 * numbers. This is the per-request half of the request metrics: prom-client's own `inc`/`observe` validate
 * and hash the label set on every call (≈2.6 µs a request together, measured), while this is two map
 * lookups and a few additions; `metrics.ts` turns the tallies into Prometheus series when scraped.
 */

/** One (method, status) pair: how many answers, their total seconds, and how many fell in each bucket. */
export interface RequestSeries {
  readonly method: string;
  readonly status: string;
  count: number;
  sumSeconds: number;
  /** `perBucket[i]`: answers with `bounds[i-1] < seconds <= bounds[i]`; slower ones are only in `count`. */
  readonly perBucket: number[];
}

export class RequestTally {
  // Method, then status: both lookups hit keys V8 has already hashed (the parser's method strings are
  // constants, statuses are small integers), where a joined string key would be built and hashed anew.
  private readonly byMethod = new Map<string, Map<number, RequestSeries>>();
  /** In order of first answer, as prom-client lists series. */
  private readonly all: RequestSeries[] = [];

  /** `bounds`: the buckets' upper bounds in seconds, ascending (Prometheus `le`). */
  constructor(readonly bounds: readonly number[]) {}

  /** Counts one answer that took `seconds`. */
  observe(method: string, status: number, seconds: number): void {
    let byStatus = this.byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.byMethod.set(method, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = {
        method,
        status: String(status),
        count: 0,
        sumSeconds: 0,
        perBucket: this.bounds.map(() => 0),
      };
      byStatus.set(status, series);
      this.all.push(series);
    }
    series.count += 1;
    series.sumSeconds += seconds;
    const bucket = bucketOf(this.bounds, seconds);
    if (bucket !== -1) series.perBucket[bucket]! += 1;
  }

  /** Every pair seen so far, in order of first answer. */
  series(): readonly RequestSeries[] {
    return this.all;
  }

  clear(): void {
    this.byMethod.clear();
    this.all.length = 0;
  }
}

/** Index of the first bound `seconds` does not exceed, or -1 when it exceeds them all (`+Inf` only). */
export function bucketOf(bounds: readonly number[], seconds: number): number {
  for (let i = 0; i < bounds.length; i++) if (seconds <= bounds[i]!) return i;
  return -1;
}
