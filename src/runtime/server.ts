/**
 * Listens: the admin server first (so probes answer while the function loads), then the function server
 * once the function is loaded. Sets the socket timeouts and decides the phases of shutdown: drain (not
 * ready, still serving, every answer `Connection: close`), then close, then a bounded wait for in-flight
 * requests.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { announceReady } from './announce.js';
import type { AnnounceConfig, RuntimeConfig } from './config.js';
import { createFunctionServer } from './http/function-server.js';
import type { RuntimeMetrics } from './http/metrics.js';
import { runLifecycle, type RunningRuntime } from './lifecycle.js';
import type { FunctionHandler } from './model.js';
import { closeWithin, listen } from './net.js';

export type { RunningRuntime } from './lifecycle.js';

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

/** Starts the admin server, then loads the function and starts the function server. */
export async function startRuntime(config: RuntimeConfig, deps: RuntimeDeps): Promise<RunningRuntime> {
  const host = deps.host ?? '0.0.0.0';
  let functionServer: Server | undefined;
  return runLifecycle(
    config,
    { logger: deps.logger, metrics: deps.metrics, load: deps.load, host },
    {
      start: async (handler, progress) => {
        functionServer = createFunctionServer({
          handler,
          logger: deps.logger,
          metrics: deps.metrics,
          timeoutMs: config.timeoutMs,
          maxBodyBytes: config.maxBodyBytes,
          isDraining: () => progress.isDraining(),
        });
        setSocketTimeouts(functionServer);
        const url = await listen(functionServer, host, config.port);
        return { ready: url, fields: { url } };
      },
      afterReady: () => {
        if (config.announce !== undefined)
          void (deps.announce ?? announceReady)(config.announce, deps.logger);
      },
      stop: async (wasServing) => {
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
        return { drained, graceMs };
      },
    },
    'function ready',
  );
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

/** Time a client has to send a whole request (headers and body); the function's own time is not counted. */
export const REQUEST_RECEIVE_TIMEOUT_MS = 60_000;

/** Keep-alive beyond the proxy's idle timeout; slow senders are cut after a minute. */
function setSocketTimeouts(server: Server): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.requestTimeout = REQUEST_RECEIVE_TIMEOUT_MS;
}
