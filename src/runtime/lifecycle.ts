/**
 * What every runtime does around its function, whatever serves it (the HTTP function server, or the event
 * consumer): the admin server first, so probes and metrics answer while the function loads; the phases
 * readiness reports (loading, what it waits for, ready, failed, draining); the cold-start metric and log;
 * and a shutdown that runs once, closes the admin server last and logs one line either way.
 */
import type { Logger } from 'pino';
import type { RuntimeConfig } from './config.js';
import { createAdminServer, type Readiness } from './http/admin.js';
import type { RuntimeMetrics } from './http/metrics.js';
import { close, listen } from './net.js';
import type { FunctionHandler } from './model.js';

/** Where the runtime is; `loading` may say what it waits for once the function has loaded. */
export type Phase =
  | { phase: 'loading'; waitingFor?: string }
  | { phase: 'ready' }
  | { phase: 'failed'; error: string }
  | { phase: 'draining' };

export interface RunningRuntime {
  /** `http://host:port` of the admin server, listening already. */
  adminUrl: string;
  /**
   * Resolves once ready with the function server's URL (an event function: its consumer's name); rejects if
   * loading failed.
   */
  ready: Promise<string>;
  /**
   * Stops serving as the serving part decides (the HTTP server drains first), waits for what is in flight
   * (bounded) and closes the admin server. True if everything in flight finished. Calling it again returns
   * the same promise.
   */
  shutdown(): Promise<boolean>;
}

/** What the serving part is told while it starts. */
export interface StartProgress {
  /** True once shutdown began: stop starting, and throw. */
  isDraining(): boolean;
  /** What readiness says the runtime waits for, until it is ready. */
  waitingFor(what: string): void;
}

/** The part of a runtime that serves the loaded function. */
export interface Serving {
  /** Serves the handler; resolves to what `ready` gives and what the "function ready" log line adds. */
  start(handler: FunctionHandler, progress: StartProgress): Promise<{ ready: string; fields: object }>;
  /** Called once the runtime counts as ready. */
  afterReady?(): void;
  /** Stops serving; `wasServing` when it was ready. Resolves to whether everything in flight finished. */
  stop(wasServing: boolean): Promise<{ drained: boolean; graceMs: number }>;
}

export interface LifecycleDeps {
  logger: Logger;
  metrics: RuntimeMetrics;
  load: () => Promise<FunctionHandler>;
  host: string;
}

/** Starts the admin server, then loads the function and hands it to `serving`. */
export async function runLifecycle(
  config: RuntimeConfig,
  deps: LifecycleDeps,
  serving: Serving,
  readyMessage: string,
): Promise<RunningRuntime> {
  let state: Phase = { phase: 'loading' };
  const admin = createAdminServer({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: () => readinessOf(state, config),
    ...(config.podUid === undefined ? {} : { podUid: config.podUid }),
  });
  const adminUrl = await listen(admin, deps.host, config.adminPort);
  const progress: StartProgress = {
    isDraining: () => state.phase === 'draining',
    waitingFor: (what) => {
      if (state.phase === 'loading') state = { phase: 'loading', waitingFor: what };
    },
  };

  const ready = (async (): Promise<string> => {
    try {
      const handler = await deps.load();
      // A shutdown while loading has closed everything already: never start serving after it.
      if (progress.isDraining()) throw new Error('shut down while the function was loading');
      const started = await serving.start(handler, progress);
      if (state.phase === 'loading') state = { phase: 'ready' };
      serving.afterReady?.();
      const coldStart = process.uptime();
      deps.metrics.coldStart.set(coldStart);
      deps.logger.info(
        { ...started.fields, adminUrl, coldStartSeconds: Math.round(coldStart * 1000) / 1000 },
        readyMessage,
      );
      return started.ready;
    } catch (err) {
      if (!progress.isDraining())
        state = { phase: 'failed', error: err instanceof Error ? err.message : String(err) };
      throw err;
    }
  })();
  // `ready` is awaited by the caller; this keeps an early shutdown from leaving it unhandled.
  ready.catch(() => undefined);

  const stop = async (): Promise<boolean> => {
    const wasServing = state.phase === 'ready';
    state = { phase: 'draining' };
    const { drained, graceMs } = await serving.stop(wasServing);
    await close(admin);
    // One message either way, so that a query for it finds every exit; a cut request is worth a warning.
    if (drained) deps.logger.info({ drained }, 'shut down');
    else deps.logger.warn({ drained, graceMs }, 'shut down');
    return drained;
  };
  let stopping: Promise<boolean> | undefined;
  return { adminUrl, ready, shutdown: () => (stopping ??= stop()) };
}

export function readinessOf(state: Phase, config: RuntimeConfig): Readiness {
  switch (state.phase) {
    case 'ready':
      return { ready: true, reason: 'ready' };
    case 'loading':
      return { ready: false, reason: state.waitingFor ?? `loading ${config.handler.modulePath}` };
    case 'failed':
      return { ready: false, reason: `failed to load the function: ${state.error}` };
    case 'draining':
      return { ready: false, reason: 'shutting down' };
  }
}
