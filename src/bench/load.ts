/**
 * The load loop the benchmarks share: `concurrency` keep-alive loops, one request at a time each, for a fixed
 * time; every answered request's latency kept, so rounds can be pooled into one result. `bench:webhook`
 * POSTs over HTTPS (this file), `bench:runtime` GETs over plain HTTP (runtime-load.ts).
 */
import { Agent, request } from 'node:https';

export interface LoadResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

/** One measured window: every successful request's latency, the failures, and the wall time. */
export interface LoadRound {
  latenciesMs: number[];
  errors: number;
  seconds: number;
  /** CPU seconds the server used in the window, when known. */
  serverCpuSeconds?: number;
}

/** A LoadResult, plus the server's CPU time per answered request when every round measured it. */
export type MergedResult = LoadResult & { server_cpu_us_per_request?: number };

/** Calls `send` from `concurrency` loops for `durationMs`; `send` resolves true for an answered request. */
export async function measureRound(
  concurrency: number,
  durationMs: number,
  send: () => Promise<boolean>,
): Promise<LoadRound> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      if (await send()) latenciesMs.push(performance.now() - t0);
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latenciesMs, errors, seconds: (performance.now() - started) / 1000 };
}

/** Several rounds against the same server as one result: total requests over total time, pooled quantiles. */
export function mergeRounds(rounds: readonly LoadRound[]): MergedResult {
  const latencies = rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const result: MergedResult = {
    rps: seconds > 0 ? Math.round(latencies.length / seconds) : 0,
    p50_ms: round(quantile(latencies, 0.5)),
    p99_ms: round(quantile(latencies, 0.99)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
  if (latencies.length > 0 && rounds.every((r) => r.serverCpuSeconds !== undefined)) {
    const cpu = rounds.reduce((sum, r) => sum + r.serverCpuSeconds!, 0);
    result.server_cpu_us_per_request = Math.round((cpu / latencies.length) * 1e7) / 10;
  }
  return result;
}

export interface LoadOptions {
  url: string;
  path: string;
  body: string;
  ca: string;
  concurrency: number;
  durationMs: number;
}

/** Sends `body` to `path` over HTTPS from `concurrency` keep-alive connections for `durationMs`. */
export async function driveLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, ca: options.ca });
  try {
    return mergeRounds([
      await measureRound(options.concurrency, options.durationMs, () => post(agent, options)),
    ]);
  } finally {
    agent.destroy();
  }
}

function post(agent: Agent, options: LoadOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      new URL(options.path, options.url),
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('error', () => resolve(false));
    req.end(options.body);
  });
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
