/** Prometheus metrics of the runtime, on a registry of its own (never prom-client's global one). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface RuntimeMetrics {
  registry: Registry;
  /** Answered requests by method and status code. */
  requests: Counter<'method' | 'status'>;
  /** Seconds from request to answer, by method and status code. */
  duration: Histogram<'method' | 'status'>;
  /** Function failures: `exception` (it threw, 500) or `timeout` (504). */
  errors: Counter<'kind'>;
  /** Seconds from process start until the function was loaded and served. */
  coldStart: Gauge;
  /** Counts one answered request and observes its duration (both by method and status). */
  observeRequest(method: string, status: number, seconds: number): void;
}

/** Creates the metrics, plus the default process metrics (CPU, memory, event loop lag, GC). */
export function createRuntimeMetrics(): RuntimeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'cloudbase_runtime_requests_total',
    help: 'Requests answered by the function server, by method and status code.',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'cloudbase_runtime_request_duration_seconds',
    help: 'Time from request to answer, by method and status code.',
    labelNames: ['method', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  // prom-client hashes the label object on every inc/observe; the children of a (method, status) pair are
  // looked up once. The pairs are bounded: Node's parser accepts a fixed set of methods, statuses are
  // three digits.
  const children = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  const observeRequest = (method: string, status: number, seconds: number): void => {
    const key = `${method} ${status}`;
    let child = children.get(key);
    if (child === undefined) {
      const labels = { method, status: String(status) };
      child = { count: requests.labels(labels), time: duration.labels(labels) };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(seconds);
  };
  return {
    registry,
    requests,
    duration,
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
    observeRequest,
  };
}
