/**
 * Plain-HTTP GETs for `npm run bench:runtime`, through load.ts's loop (its HTTPS agent refuses an `http:`
 * URL). Rounds are returned raw so several can be merged into one result (`mergeRounds`).
 */
import { Agent, request, type RequestOptions } from 'node:http';
import { measureRound, type LoadRound } from './load.js';

export interface HttpLoadOptions {
  /** `http://127.0.0.1:port/path` to GET. */
  url: string;
  concurrency: number;
  durationMs: number;
}

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
  try {
    return await measureRound(options.concurrency, options.durationMs, () => get(requestOptions));
  } finally {
    agent.destroy();
  }
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
