import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry } from 'prom-client';
import { createRuntimeMetrics } from './metrics.js';

const OBSERVED: [string, number, number][] = [
  ['GET', 200, 0.0004],
  ['GET', 200, 0.003],
  ['GET', 200, 42],
  ['POST', 201, 0.2],
  ['GET', 500, 0.01],
];

/** The request series as prom-client's own Counter and Histogram print the same observations. */
async function printedByPromClient(): Promise<string> {
  const registry = new Registry();
  const labelNames = ['method', 'status'] as const;
  const requests = new Counter({
    name: 'cloudbase_runtime_requests_total',
    help: 'Requests answered by the function server, by method and status code.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'cloudbase_runtime_request_duration_seconds',
    help: 'Time from request to answer, by method and status code.',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  for (const [method, status, seconds] of OBSERVED) {
    requests.inc({ method, status: String(status) });
    duration.observe({ method, status: String(status) }, seconds);
  }
  return registry.metrics();
}

/** The blocks of the request series only (metrics are separated by blank lines). */
function requestBlocks(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => /^# HELP cloudbase_runtime_request/.test(block))
    .map((block) => block.trim())
    .sort();
}

describe('createRuntimeMetrics', () => {
  it('prints the request counter and duration histogram exactly as prom-client would', async () => {
    const metrics = createRuntimeMetrics();
    for (const [method, status, seconds] of OBSERVED) metrics.observeRequest(method, status, seconds);
    const ours = requestBlocks(await metrics.registry.metrics());
    expect(ours).toHaveLength(2);
    expect(ours).toEqual(requestBlocks(await printedByPromClient()));
  });

  it('prints headers only before the first request, and starts over when the registry is reset', async () => {
    const metrics = createRuntimeMetrics();
    const empty = requestBlocks(await metrics.registry.metrics());
    expect(empty.map((block) => block.split('\n').length)).toEqual([2, 2]);
    metrics.observeRequest('GET', 200, 0.1);
    metrics.registry.resetMetrics();
    expect(requestBlocks(await metrics.registry.metrics())).toEqual(empty);
  });

  it('keeps the function errors and the cold start as they were', async () => {
    const metrics = createRuntimeMetrics();
    metrics.errors.inc({ kind: 'timeout' });
    metrics.coldStart.set(0.25);
    const text = await metrics.registry.metrics();
    expect(text).toContain('cloudbase_runtime_function_errors_total{kind="timeout"} 1');
    expect(text).toContain('cloudbase_runtime_cold_start_seconds 0.25');
  });
});
