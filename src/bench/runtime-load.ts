/**
 * Plain-HTTP keep-alive load for `npm run bench:runtime`. `load.ts` drives HTTPS only (its agent and
 * request come from `node:https`, which refuses an `http:` URL), so this is its loop over `node:http`,
 * keeping its result shape and quantiles; rounds are kept raw so several can be merged into one result.
 */
import { Agent, request, type RequestOptions } from 'node:http';
import { quantile, type LoadResult } from './load.js';

export interface HttpLoadOptions {
  /** `http://127.0.0.1:port/path` to GET. */
  url: string;
  concurrency: number;
  durationMs: number;
}

/** One measured window: every successful request's latency, the failures, and the wall time. */
export interface LoadRound {
  latenciesMs: number[];
  errors: number;
  seconds: number;
  /** CPU seconds the server used in the window, when known. */
  serverCpuSeconds?: number;
}

/** `load.ts`'s result, plus the server's CPU time per answered request when every round measured it. */
export type MergedResult = LoadResult & { server_cpu_us_per_request?: number };

/** GETs `url` from `concurrency` keep-alive connections for `durationMs`, one request at a time each. */
export async function driveHttpLoad(options: HttpLoadOptions): Promise<LoadRound> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const url = new URL(options.url);
  // Parsed once: the client's own per-request work is part of what the measurement cannot subtract.
  const requestOptions: RequestOptions = {
    host: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    method: 'GET',
    agent,
  };
  const latenciesMs: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      if (await get(requestOptions)) latenciesMs.push(performance.now() - t0);
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latenciesMs, errors, seconds };
}

function get(options: RequestOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
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

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
