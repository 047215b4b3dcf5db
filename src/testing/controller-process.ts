import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClusterEnv } from './cluster.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ControllerProcess {
  identity: string;
  child: ChildProcess;
  logFile: string;
  /** Kills it the hard way, as a node failure would; resolves once it exited. */
  kill: () => Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop: () => Promise<void>;
  /** The process id. */
  pid: number;
  /**
   * Sends a signal and returns at once: SIGSTOP freezes the process as a stalled node would, SIGCONT resumes
   * it. A frozen process keeps a SIGTERM pending until it is resumed, so resume it before `stop`.
   */
  signal: (name: NodeJS.Signals) => void;
}

/**
 * Runs `cloudbase controller` from the build in dist/, as its own process against the local cluster, so a
 * test can kill it like a crashed replica. Its log goes to a file named after its identity.
 */
export function startControllerProcess(
  env: ClusterEnv,
  options: {
    identity: string;
    leaseNamespace: string;
    leaseName: string;
    /** Tests repair drift within seconds; a benchmark keeps the production default (60 s). */
    resyncSeconds?: number;
    /** Also serve the webhooks, as every replica does in the cluster, on `host` (reachable by the API server). */
    webhook?: { certDir: string; port: number; host: string; runtimeImages?: Record<string, string> };
  },
): ControllerProcess {
  const logFile = `/tmp/cloudbase-e2e-${options.identity}.log`;
  const log = createWriteStream(logFile, { flags: 'a' });
  // CLOUDBASE_CONTROLLER_NODE_FLAGS (e.g. `--cpu-prof`) profiles the controller under a test or benchmark;
  // Node refuses such flags in NODE_OPTIONS.
  const nodeFlags = (process.env['CLOUDBASE_CONTROLLER_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      MAIN,
      'controller',
      '--kubeconfig',
      env.kubeconfig,
      '--lease-namespace',
      options.leaseNamespace,
      '--lease-name',
      options.leaseName,
      '--identity',
      options.identity,
      // This process runs on the host, outside the cluster's network namespace, where pod IPs are not routed:
      // it must not read pods, nor scale anything from reads it cannot make.
      '--autoscaler',
      'off',
      '--metrics-port',
      '0',
      '--metrics-host',
      options.webhook?.host ?? '127.0.0.1',
      ...(options.webhook === undefined
        ? []
        : [
            '--cert-dir',
            options.webhook.certDir,
            '--webhook-port',
            String(options.webhook.port),
            ...Object.entries(options.webhook.runtimeImages ?? {}).flatMap(([runtime, image]) => [
              '--runtime-image',
              `${runtime}=${image}`,
            ]),
          ]),
      '--resync-seconds',
      String(options.resyncSeconds ?? 10),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return {
    identity: options.identity,
    child,
    logFile,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    pid: child.pid!,
    signal: (name) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
    },
  };
}
