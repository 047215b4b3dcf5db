/**
 * Listens: the admin server first (so probes answer while the function loads), then the function server
 * once the function is loaded. Sets the socket timeouts and decides the phases of shutdown: drain (not
 * ready, still serving, every answer `Connection: close`), then close, then a bounded wait for in-flight
 * requests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { announceReady } from './announce.js';
import type { AnnounceConfig, RuntimeConfig } from './config.js';
import { createAdminServer, type Readiness } from './http/admin.js';
import { createFunctionServer } from './http/function-server.js';
import type { RuntimeMetrics } from './http/metrics.js';
import type { FunctionHandler } from './model.js';

/** How long shutdown takes at most, drain included, for a short timeout: below Kubernetes' default 30 s. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;
/**
 * Longer than the idle timeout of the proxy in front (Traefik's default is 90 s), so that the proxy, not
 * us, closes idle keep-alive connections and never reuses one we just closed (which gives it a 502).
 * https://doc.traefik.io/traefik/routing/services/#serverstransport
 */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000;

export interface RuntimeDeps {
  logger: Logger;
  metrics: RuntimeMetrics;
  /** Loads and adapts the user's function; readiness waits for it. */
  load: () => Promise<FunctionHandler>;
  /** Interface to listen on; `0.0.0.0` in a pod, `127.0.0.1` in tests. */
  host?: string;
  /** Bound on the wait for in-flight requests once closed; default {@link inFlightGraceMs}. */
  shutdownGraceMs?: number;
  /** Waits out the drain (config.drainMs); tests inject one they end themselves. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Tells the activator this pod is ready (config.announce); tests observe it. Default: announce.ts. */
  announce?: (config: AnnounceConfig, logger: Logger) => Promise<boolean>;
}

export interface RunningRuntime {
  /** `http://host:port` of the admin server, listening already. */
  adminUrl: string;
  /**
   * Resolves once ready with the function server's URL (an event function: its consumer's name); rejects if
   * loading failed.
   */
  ready: Promise<string>;
  /**
   * Drains (not ready, still serving, every answer `Connection: close`) for config.drainMs if the function was
   * serving, then stops accepting, closes idle connections, waits for in-flight requests (bounded) and closes
   * both servers. True if every request finished. Calling it again returns the same promise.
   */
  shutdown(): Promise<boolean>;
}

/** Where the runtime is; `loading` may say what it waits for once the function has loaded. */
export type Phase =
  | { phase: 'loading'; waitingFor?: string }
  | { phase: 'ready' }
  | { phase: 'failed'; error: string }
  | { phase: 'draining' };

/** Starts the admin server, then loads the function and starts the function server. */
export async function startRuntime(config: RuntimeConfig, deps: RuntimeDeps): Promise<RunningRuntime> {
  const host = deps.host ?? '0.0.0.0';
  let state: Phase = { phase: 'loading' };
  const admin = createAdminServer({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: () => readinessOf(state, config),
    ...(config.podUid === undefined ? {} : { podUid: config.podUid }),
  });
  const adminUrl = await listen(admin, host, config.adminPort);
  let functionServer: Server | undefined;
  const isDraining = (): boolean => state.phase === 'draining';

  const ready = (async (): Promise<string> => {
    try {
      const handler = await deps.load();
      // A shutdown while loading has closed everything already: never start listening after it.
      if (isDraining()) throw new Error('shut down while the function was loading');
      functionServer = createFunctionServer({
        handler,
        logger: deps.logger,
        metrics: deps.metrics,
        timeoutMs: config.timeoutMs,
        maxBodyBytes: config.maxBodyBytes,
        isDraining,
      });
      setSocketTimeouts(functionServer);
      const url = await listen(functionServer, host, config.port);
      if (state.phase === 'loading') state = { phase: 'ready' };
      if (config.announce !== undefined) void (deps.announce ?? announceReady)(config.announce, deps.logger);
      const coldStart = process.uptime();
      deps.metrics.coldStart.set(coldStart);
      deps.logger.info(
        { url, adminUrl, coldStartSeconds: Math.round(coldStart * 1000) / 1000 },
        'function ready',
      );
      return url;
    } catch (err) {
      if (!isDraining()) {
        state = { phase: 'failed', error: err instanceof Error ? err.message : String(err) };
      }
      throw err;
    }
  })();
  // `ready` is awaited by the caller; this keeps an early shutdown from leaving it unhandled.
  ready.catch(() => undefined);

  const stop = async (): Promise<boolean> => {
    const wasServing = state.phase === 'ready';
    state = { phase: 'draining' };
    if (functionServer !== undefined && wasServing && config.drainMs > 0) {
      // Kubernetes takes the pod out of its endpoints as it signals it, but proxies route here until they
      // have seen that: keep answering meanwhile, idle keep-alive connections included, each answer
      // retiring its connection (contract/runtime-env.ts DEFAULT_DRAIN_MS).
      deps.logger.info(
        { drainMs: config.drainMs },
        'draining: readiness false, serving with Connection: close',
      );
      await (deps.sleep ?? sleep)(config.drainMs);
    }
    const graceMs = deps.shutdownGraceMs ?? inFlightGraceMs(config.timeoutMs, config.drainMs);
    const drained = functionServer ? await closeWithin(functionServer, graceMs) : true;
    await close(admin);
    // One message either way, so that a query for it finds every exit; a cut request is worth a warning.
    if (drained) deps.logger.info({ drained }, 'shut down');
    else deps.logger.warn({ drained, graceMs }, 'shut down');
    return drained;
  };
  let stopping: Promise<boolean> | undefined;
  const shutdown = (): Promise<boolean> => (stopping ??= stop());
  return { adminUrl, ready, shutdown };
}

/**
 * How long shutdown waits, once it stops accepting, for the requests still in flight. At least the function's
 * timeout (plus a second to write its 504), since a request taken during the drain may run that long; with a
 * short timeout, what the drain left of {@link DEFAULT_SHUTDOWN_GRACE_MS}. Drain and wait together thus stay
 * below the pod's grace period, Kubernetes' default 30 s or the webhook's drain + timeout + 5 s
 * (contract/runtime-env.ts terminationGracePeriodSeconds), so the runtime exits before the kubelet kills it.
 */
export function inFlightGraceMs(timeoutMs: number, drainMs: number): number {
  return Math.max(timeoutMs + 1000, DEFAULT_SHUTDOWN_GRACE_MS - drainMs);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

export async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

/** Time a client has to send a whole request (headers and body); the function's own time is not counted. */
export const REQUEST_RECEIVE_TIMEOUT_MS = 60_000;

/** Keep-alive beyond the proxy's idle timeout; slow senders are cut after a minute. */
function setSocketTimeouts(server: Server): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.requestTimeout = REQUEST_RECEIVE_TIMEOUT_MS;
}

/**
 * Stops accepting and resolves once every connection has ended. Idle keep-alive connections are closed
 * at once; busy ones end after their answer, which says `connection: close` (see function-server.ts).
 */
export function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  return closed;
}

/** `close()` waits for in-flight requests; after `graceMs` the remaining connections are cut. */
async function closeWithin(server: Server, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
  const closed = close(server).then(() => true as const);
  const drained = await Promise.race([closed, expired]);
  clearTimeout(timer);
  if (!drained) {
    server.closeAllConnections();
    await closed;
  }
  return drained;
}
