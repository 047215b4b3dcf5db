/**
 * The admin app on its own port, so that no function path can collide with it: liveness, readiness
 * and Prometheus metrics. Builds the app and never listens.
 */
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { RuntimeMetrics } from './metrics.js';
import type { RuntimeApp } from './types.js';

/** Whether the function may receive traffic, and why not. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface AdminAppOptions {
  logger: Logger;
  metrics: RuntimeMetrics;
  readiness: () => Readiness;
}

/** Builds the admin app: `GET /livez`, `GET /readyz`, `GET /metrics`. */
export function buildAdminApp(opts: AdminAppOptions): RuntimeApp {
  // Probes hit these every few seconds: no per-request logs.
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'admin' }),
    logController: new LogController({ disableRequestLogging: true }),
  });
  const text = 'text/plain; charset=utf-8';

  // The process answers, so it is alive; a stuck event loop would not answer at all.
  app.get('/livez', async (_request, reply) => reply.type(text).send('ok'));

  app.get('/readyz', async (_request, reply) => {
    const { ready, reason } = opts.readiness();
    return reply
      .code(ready ? 200 : 503)
      .type(text)
      .send(reason);
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(body);
  });
  return app;
}
