/**
 * The admin server on its own port, so that no function path can collide with it: liveness, readiness,
 * Prometheus metrics and the autoscaler's stats. Plain `node:http` like the function server (three fixed routes need no
 * router), answering as it did on Fastify: GET or HEAD, the query ignored, anything else a JSON 404.
 * Creates the server and never listens.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { POD_UID_HEADER } from '../../contract/announce.js';
import { STATS_PATH } from '../../contract/stats.js';
import type { RuntimeMetrics } from './metrics.js';

/** Whether the function may receive traffic, and why not. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface AdminServerOptions {
  logger: Logger;
  metrics: RuntimeMetrics;
  readiness: () => Readiness;
  /** This pod's UID: `/readyz` names it, so that a prober that found us by IP knows whom it reached. */
  podUid?: string;
}

/** An admin answer before it is written. */
export interface AdminAnswer {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const TEXT = 'text/plain; charset=utf-8';

/** Creates the admin server: `GET /livez`, `GET /readyz`, `GET /metrics`, `GET /stats`. */
export function createAdminServer(opts: AdminServerOptions): Server {
  // Probes hit these every few seconds: no per-request logs, only failures.
  const log = opts.logger.child({ component: 'admin' });
  return createServer((req, res) => {
    adminAnswer(opts, req.method ?? 'GET', req.url ?? '/').then(
      (answer) => {
        res.writeHead(answer.status, {
          ...answer.headers,
          'content-type': answer.type,
          'content-length': Buffer.byteLength(answer.body),
        });
        res.end(answer.body);
      },
      (err: unknown) => {
        log.error({ err }, 'admin request failed');
        res.writeHead(500, { 'content-type': TEXT }).end('Internal Server Error');
      },
    );
  });
}

/** What the admin server answers to `method` on `url`. */
export async function adminAnswer(
  opts: AdminServerOptions,
  method: string,
  url: string,
): Promise<AdminAnswer> {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (method === 'GET' || method === 'HEAD') {
    switch (path) {
      // The process answers, so it is alive; a stuck event loop would not answer at all.
      case '/livez':
        return { status: 200, type: TEXT, body: 'ok' };
      case '/readyz': {
        const { ready, reason } = opts.readiness();
        return {
          status: ready ? 200 : 503,
          type: TEXT,
          body: reason,
          ...(opts.podUid === undefined ? {} : { headers: { [POD_UID_HEADER]: opts.podUid } }),
        };
      }
      // The autoscaler's read (contract/stats.ts), about once a second.
      case STATS_PATH:
        return {
          status: 200,
          type: 'application/json; charset=utf-8',
          body: JSON.stringify(opts.metrics.concurrency.read(performance.now())),
        };
      case '/metrics':
        return {
          status: 200,
          type: opts.metrics.registry.contentType,
          body: await opts.metrics.registry.metrics(),
        };
    }
  }
  return {
    status: 404,
    type: 'application/json; charset=utf-8',
    body: JSON.stringify({
      message: `Route ${method}:${url} not found`,
      error: 'Not Found',
      statusCode: 404,
    }),
  };
}
