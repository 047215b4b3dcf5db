/** Prometheus metrics of the runtime, on a registry of its own (never prom-client's global one). */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { ConcurrencyMeter } from './concurrency.js';
import { RequestTally } from './request-tally.js';

export interface RuntimeMetrics {
  registry: Registry;
  /** Function failures: `exception` (it threw, 500) or `timeout` (504). */
  errors: Counter<'kind'>;
  /** Seconds from process start until the function was loaded and served. */
  coldStart: Gauge;
  /**
   * Counts one answered request and observes its duration, both by method and status: the series
   * `cloudbase_runtime_requests_total` and `cloudbase_runtime_request_duration_seconds`.
   */
  observeRequest(method: string, status: number, seconds: number): void;
  /** Requests in flight and their integral over time, for the autoscaler (`/stats`, contract/stats.ts). */
  concurrency: ConcurrencyMeter;
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Creates the metrics, plus the default process metrics (CPU, memory, event loop lag, GC). */
export function createRuntimeMetrics(): RuntimeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Requests are tallied in plain numbers and become series only when scraped (see request-tally.ts).
  const tally = new RequestTally(DURATION_BUCKETS);
  const concurrency = new ConcurrencyMeter(performance.now());
  new Gauge({
    name: 'cloudbase_runtime_in_flight_requests',
    help: 'Requests the function server is handling now.',
    registers: [registry],
    collect() {
      this.set(concurrency.read(performance.now()).inFlight);
    },
  });
  new Counter({
    name: 'cloudbase_runtime_concurrency_seconds_total',
    help: 'Requests in flight integrated over time: its rate is the mean concurrency the autoscaler reads.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(concurrency.read(performance.now()).concurrencySeconds);
    },
  });
  new Counter({
    name: 'cloudbase_runtime_requests_total',
    help: 'Requests answered by the function server, by method and status code.',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of tally.series()) this.inc({ method: s.method, status: s.status }, s.count);
    },
  });
  // prom-client's registry reads any metric through `get()`; its own Histogram offers no way to load
  // counts it did not observe itself, so this one answers from the tally in the same shape.
  registry.registerMetric(
    durationHistogram(
      'cloudbase_runtime_request_duration_seconds',
      'Time from request to answer, by method and status code.',
      tally,
    ) as unknown as Metric,
  );
  return {
    registry,
    errors: new Counter({
      name: 'cloudbase_runtime_function_errors_total',
      help: 'Invocations that failed: kind=exception (the function threw, 500) or kind=timeout (504).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    coldStart: new Gauge({
      name: 'cloudbase_runtime_cold_start_seconds',
      help: 'Seconds from process start until the function was loaded and the server ready.',
      registers: [registry],
    }),
    observeRequest: (method, status, seconds) => tally.observe(method, status, seconds),
    concurrency,
  };
}

/** One sample line: `<metricName>{labels} value`. */
export interface SampleValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What prom-client's registry reads from a metric: `Registry.metrics()` calls `get()`, `resetMetrics()` `reset()`. */
export interface ExportedMetric {
  name: string;
  help: string;
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: SampleValue[] }>;
  reset(): void;
}

/** A histogram metric as prom-client's registry reads one: cumulative `_bucket`s with `le`, `_sum`, `_count`. */
export function durationHistogram(name: string, help: string, tally: RequestTally): ExportedMetric {
  return {
    name,
    help,
    get: async () => ({
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      values: histogramSamples(name, tally),
    }),
    reset: () => tally.clear(),
  };
}

/** Every series of the tally as histogram samples, in the order prom-client's own Histogram prints them. */
export function histogramSamples(name: string, tally: RequestTally): SampleValue[] {
  return tally.series().flatMap((s) => {
    const labels = { method: s.method, status: s.status };
    let cumulative = 0;
    const buckets = tally.bounds.map((le, i) => {
      cumulative += s.perBucket[i]!;
      return { metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative };
    });
    return [
      ...buckets,
      { metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels }, value: s.count },
      { metricName: `${name}_sum`, labels, value: s.sumSeconds },
      { metricName: `${name}_count`, labels, value: s.count },
    ];
  });
}
