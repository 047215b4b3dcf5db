/**
 * The runtime of an event function (`cloudbase.dev/trigger: event`): the admin server first (probes and
 * metrics answer while the function loads), then the connection to the event bus and the consumer
 * (events/consumer.ts), which is what makes the pod ready. No function server: an event function has no
 * HTTP route. Shutdown: not ready, stop pulling, finish the events in flight (bounded), drain the
 * connection so every ack and publish reaches the server, close.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { connectBus } from '../bus/connect.js';
import { consumerName, deadLetterSubject } from '../contract/event-bus.js';
import type { EventsConfig, RuntimeConfig } from './config.js';
import { startEventConsumer, type RunningConsumer } from './events/consumer.js';
import { createEventMetrics } from './events/metrics.js';
import { runLifecycle, type RunningRuntime } from './lifecycle.js';
import { inFlightGraceMs, type RuntimeDeps } from './server.js';

export interface EventRuntimeDeps extends Pick<
  RuntimeDeps,
  'logger' | 'metrics' | 'load' | 'host' | 'shutdownGraceMs'
> {
  /** Connects to the bus; tests use the default against a real server. Default: bus/connect.ts. */
  connect?: (config: RuntimeConfig & { events: EventsConfig }, logger: Logger) => Promise<NatsConnection>;
}

/** Starts the admin server, then loads the function, connects and consumes; `ready` gives the consumer's name. */
export async function startEventRuntime(
  config: RuntimeConfig & { events: EventsConfig },
  deps: EventRuntimeDeps,
): Promise<RunningRuntime> {
  const consumer = consumerName(config.namespace, config.functionName);
  let connection: NatsConnection | undefined;
  let running: RunningConsumer | undefined;
  return runLifecycle(
    config,
    { logger: deps.logger, metrics: deps.metrics, load: deps.load, host: deps.host ?? '0.0.0.0' },
    {
      start: async (handler, progress) => {
        progress.waitingFor(`connecting to the event bus at ${config.events.url}`);
        connection = await (deps.connect ?? connectToBus)(config, deps.logger);
        if (progress.isDraining()) throw new Error('shut down while connecting to the event bus');
        progress.waitingFor(`waiting for consumer ${consumer} on the event bus`);
        running = startEventConsumer(
          {
            namespace: config.namespace,
            consumer,
            deadLetterSubject: deadLetterSubject(config.namespace, config.functionName),
            maxAttempts: config.events.maxAttempts,
            backoffMs: config.events.backoffMs,
            concurrency: config.events.concurrency,
            timeoutMs: config.timeoutMs,
          },
          { connection, handler, logger: deps.logger, metrics: createEventMetrics(deps.metrics.registry) },
        );
        await running.ready;
        return { ready: consumer, fields: { consumer } };
      },
      stop: async () => {
        const graceMs = deps.shutdownGraceMs ?? inFlightGraceMs(config.timeoutMs, 0);
        deps.logger.info(
          { inFlight: running?.inFlight() ?? 0, graceMs },
          'stopping: no new pulls, finishing events in flight',
        );
        const drained = (await running?.stop(graceMs)) ?? true;
        // Drain flushes the acks, naks and publishes still buffered before the connection closes.
        await connection
          ?.drain()
          .catch((err: unknown) => deps.logger.warn({ err }, 'event bus connection did not drain'));
        return { drained, graceMs };
      },
    },
    'function ready: consuming events',
  );
}

function connectToBus(
  config: RuntimeConfig & { events: EventsConfig },
  logger: Logger,
): Promise<NatsConnection> {
  return connectBus({
    servers: config.events.url,
    name: `cloudbase-runtime ${config.namespace}/${config.functionName}`,
    logger,
  });
}
