import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** Plain-HTTP /metrics, /healthz and /readyz of the controller process (kubelet probes, Prometheus). */
export async function startMetricsServer(options: {
  port: number;
  host: string;
  registry: Registry;
  logger: Logger;
  isReady: () => boolean;
}): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({ loggerInstance, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    options.isReady() ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' }),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.type(options.registry.contentType).send(await options.registry.metrics()),
  );
  await app.listen({ port: options.port, host: options.host });
  return app;
}
