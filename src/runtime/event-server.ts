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
import { createAdminServer } from './http/admin.js';
import {
  close,
  inFlightGraceMs,
  listen,
  readinessOf,
  type Phase,
  type RunningRuntime,
  type RuntimeDeps,
} from './server.js';

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
  const host = deps.host ?? '0.0.0.0';
  const consumer = consumerName(config.namespace, config.functionName);
  let state: Phase = { phase: 'loading' };
  const admin = createAdminServer({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: () => readinessOf(state, config),
    ...(config.podUid === undefined ? {} : { podUid: config.podUid }),
  });
  const adminUrl = await listen(admin, host, config.adminPort);
  let connection: NatsConnection | undefined;
  let running: RunningConsumer | undefined;
  const isDraining = (): boolean => state.phase === 'draining';

  const ready = (async (): Promise<string> => {
    try {
      const handler = await deps.load();
      if (isDraining()) throw new Error('shut down while the function was loading');
      state = { phase: 'loading', waitingFor: `connecting to the event bus at ${config.events.url}` };
      connection = await (deps.connect ?? connectToBus)(config, deps.logger);
      if (isDraining()) throw new Error('shut down while connecting to the event bus');
      state = { phase: 'loading', waitingFor: `waiting for consumer ${consumer} on the event bus` };
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
      if (state.phase === 'loading') state = { phase: 'ready' };
      const coldStart = process.uptime();
      deps.metrics.coldStart.set(coldStart);
      deps.logger.info(
        { consumer, adminUrl, coldStartSeconds: Math.round(coldStart * 1000) / 1000 },
        'function ready: consuming events',
      );
      return consumer;
    } catch (err) {
      if (!isDraining()) state = { phase: 'failed', error: err instanceof Error ? err.message : String(err) };
      throw err;
    }
  })();
  ready.catch(() => undefined);

  const stop = async (): Promise<boolean> => {
    state = { phase: 'draining' };
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
    await close(admin);
    if (drained) deps.logger.info({ drained }, 'shut down');
    else deps.logger.warn({ drained, graceMs }, 'shut down');
    return drained;
  };
  let stopping: Promise<boolean> | undefined;
  return { adminUrl, ready, shutdown: () => (stopping ??= stop()) };
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
