/**
 * `cloudbase-runtime serve`: reads the config, starts the servers, loads the user's function and drains
 * on SIGTERM/SIGINT. The only place that touches `process`.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { loadRuntimeConfig, type RuntimeConfig } from './config.js';
import { createRuntimeMetrics } from './http/metrics.js';
import { loadUserExport } from './loader.js';
import { assertMountedSourceNeedsNoBuild } from './mounted-source.js';
import { createLogger } from './logger.js';
import type { FunctionHandler, FunctionInfo } from './model.js';
import { startEventRuntime } from './event-server.js';
import { startRuntime } from './server.js';
import { ADAPTERS } from './signatures/index.js';
import { writeTerminationMessage } from '../workspace/failure.js';

/** Loads the user's export and adapts it to the configured signature. */
export async function loadFunction(
  config: RuntimeConfig,
  memoryLimitBytes: number | undefined,
  logger: Logger,
): Promise<FunctionHandler> {
  const started = performance.now();
  const loaded = await loadUserExport(config.workspace, config.handler, config.signature);
  const info: FunctionInfo = {
    name: config.functionName,
    namespace: config.namespace,
    runtime: config.runtime,
    timeoutMs: config.timeoutMs,
    memoryLimitBytes,
  };
  const handler = ADAPTERS[config.signature](loaded.value, info);
  logger.info(
    {
      file: loaded.file,
      export: loaded.exportLabel,
      signature: config.signature,
      loadMs: Math.round(performance.now() - started),
    },
    'function loaded',
  );
  return handler;
}

/** Runs the serve step; resolves with the exit code once the process should exit. */
export async function serve(env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = loadRuntimeConfig(env);
  if (!parsed.ok) {
    const line = `cloudbase serve: invalid configuration: ${parsed.errors.join('; ')}`;
    createLogger('info').fatal(line);
    writeTerminationMessage(line);
    return 1;
  }
  const config = parsed.config;
  const logger = createLogger(config.logLevel, {
    function: config.functionName,
    namespace: config.namespace,
  });
  guardProcess(logger);
  const metrics = createRuntimeMetrics();
  const memoryLimitBytes = await readMemoryLimit();
  const load = async (): Promise<FunctionHandler> => {
    await assertMountedSourceNeedsNoBuild(env, config.workspace);
    return loadFunction(config, memoryLimitBytes, logger);
  };
  const { events } = config;
  const runtime =
    events === undefined
      ? await startRuntime(config, { logger, metrics, load })
      : await startEventRuntime({ ...config, events }, { logger, metrics, load });
  try {
    await runtime.ready;
  } catch (err) {
    const line = `cloudbase serve: ${err instanceof Error ? err.message : String(err)}`;
    logger.fatal(line);
    writeTerminationMessage(line);
    await runtime.shutdown();
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal }, 'shutting down');
  // The runtime decides the phases (drain, close, bounded wait) and logs them; exit 0 either way.
  await runtime.shutdown();
  return 0;
}

/**
 * User code may throw from a timer or leave a promise rejected; that must not kill the process (and every
 * request in flight). Logged as errors, as Fission's Node.js environment does.
 */
function guardProcess(logger: Logger): void {
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception in the function'));
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection in the function'),
  );
}

/** The container's memory limit from cgroup v2 (v1 as a fallback); undefined when unlimited or unknown. */
async function readMemoryLimit(): Promise<number | undefined> {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const value = (await readFile(file, 'utf8')).trim();
      const n = Number(value);
      // cgroup v1 reports "no limit" as a huge number close to 2^63.
      return /^\d+$/.test(value) && n < 2 ** 60 ? n : undefined;
    } catch {
      // Not this cgroup version.
    }
  }
  return undefined;
}
