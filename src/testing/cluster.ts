import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { connect, isNotFound, type Kube } from '../kube/client.js';

const run = promisify(execFile);

/** Where the local cluster is, as `npm run cluster:up` wrote it to `.cluster/env`. */
export interface ClusterEnv {
  kubeconfig: string;
  traefikUrl: string;
  /** The host's address on the link to the node: where a server on the host is reachable from the cluster. */
  hostIp: string;
  kubectl: string;
  /** The node's network namespace, where ClusterIPs are served. */
  netns: string;
  /** The installed event bus's client port on the node (manifests/overlays/local/nats-node-port.yaml). */
  eventsUrl: string;
}

const ENV_FILE = new URL('../../.cluster/env', import.meta.url);

/** Reads `.cluster/env`; a missing cluster is an error that says how to start one, never a silent skip. */
export function clusterEnv(): ClusterEnv {
  const need = keyValueFile(ENV_FILE, "start the local cluster with 'npm run cluster:up'");
  return {
    kubeconfig: need('KUBECONFIG'),
    traefikUrl: need('TRAEFIK_URL'),
    hostIp: need('CLUSTER_HOST_IP'),
    kubectl: need('KUBECTL'),
    netns: need('CLUSTER_NETNS'),
    eventsUrl: need('EVENTS_URL'),
  };
}

export function clusterKube(env: ClusterEnv = clusterEnv()): Kube {
  return connect(env.kubeconfig);
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against the local cluster; resolves with its exit code and output, never throws on failure. */
export async function kubectl(
  args: string[],
  input?: string,
  env: ClusterEnv = clusterEnv(),
): Promise<KubectlResult> {
  const child = run(env.kubectl, ['--kubeconfig', env.kubeconfig, ...args], { maxBuffer: 16 * 1024 * 1024 });
  child.child.stdin?.end(input ?? '');
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failure.code === 'number' ? failure.code : 1,
      stdout: failure.stdout ?? '',
      stderr: failure.stderr ?? '',
    };
  }
}

/**
 * Follows a pod's log from now on (`kubectl logs -f`), for a test that is about to end the pod: once the pod
 * is gone its log is too. `stop()` ends the follow and gives what was written.
 */
export function followLogs(
  namespace: string,
  pod: string,
  env: ClusterEnv = clusterEnv(),
): { stop(): string } {
  const child = spawn(env.kubectl, ['--kubeconfig', env.kubeconfig, '-n', namespace, 'logs', '-f', pod], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return {
    stop: () => {
      child.kill();
      return text;
    },
  };
}

/**
 * Runs a kubectl that streams (`get -w`), stamping each line with the milliseconds since it started: a test
 * that failed prints the timeline next to its own. `stop()` ends it and gives the lines.
 */
export function followKubectl(args: string[], env: ClusterEnv = clusterEnv()): { stop(): string[] } {
  const started = Date.now();
  const child = spawn(env.kubectl, ['--kubeconfig', env.kubeconfig, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const take = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push(`+${Date.now() - started} ms ${line}`);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return {
    stop: () => {
      child.kill();
      return lines;
    },
  };
}

/** Polls `check` until it returns a value (not undefined) or the time is up; the error names what was awaited. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

/**
 * Deletes a test's namespace and waits until it is gone: its pods hold requests on the node's two cores while
 * they terminate, and the next test file's pods (a build Job's, say) would wait for room.
 */
export async function removeNamespace(name: string, env?: ClusterEnv): Promise<void> {
  const args = ['delete', 'namespace', name, '--ignore-not-found', '--wait=true', '--timeout=180s'];
  const result = await kubectl(args, undefined, env);
  if (result.code !== 0)
    throw new Error(
      `namespace ${name} was not gone within 180 s: ${result.stderr.trim() || result.stdout.trim()}`,
    );
}

/** A namespace of its own per test file, labelled so the test's webhook configurations match only it. */
export function testNamespace(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4).toString(36)}`;
}

/** The images `cluster/build-cloudbase-images.sh` built from the project's Dockerfile, as it wrote them. */
export interface ClusterImages {
  /** Target runtime-nodejs22. */
  runtimeNodejs22: string;
  /** Target cloudbase (webhook and controller). */
  cloudbase: string;
  /** The runtime plus the test CA (NODE_EXTRA_CA_CERTS), for https:// sources served by a test. */
  runtimeNodejs22TestCa: string;
  /** Folder with `tls.crt`/`tls.key` for CLUSTER_HOST_IP, signed by that test CA. */
  testTlsDir: string;
}

const IMAGES_FILE = new URL('../../.cluster/images.env', import.meta.url);

/** Reads `.cluster/images.env`; missing images are an error that says how to build them. */
export function clusterImages(): ClusterImages {
  const need = keyValueFile(
    IMAGES_FILE,
    "build them with 'bash cluster/build-cloudbase-images.sh' (npm run e2e does)",
  );
  return {
    runtimeNodejs22: need('RUNTIME_NODEJS22_IMAGE'),
    cloudbase: need('CLOUDBASE_IMAGE'),
    runtimeNodejs22TestCa: need('RUNTIME_NODEJS22_TEST_CA_IMAGE'),
    testTlsDir: need('TEST_TLS_DIR'),
  };
}

/**
 * A `KEY=VALUE` file the cluster scripts write, as a lookup that throws, naming the file, the key and `hint`
 * (what to run), when the file or a key is missing.
 */
function keyValueFile(file: URL, hint: string): (key: string) => string {
  if (!existsSync(file)) throw new Error(`${file.pathname} not found: ${hint}`);
  const values = new Map(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  return (key) => {
    const value = values.get(key);
    if (value === undefined || value === '') throw new Error(`${file.pathname} has no ${key}: ${hint}`);
    return value;
  };
}

/** Reads one object, or undefined when it does not exist (any other error is thrown). */
export async function readObject<T extends KubernetesObject>(
  kube: Kube,
  namespace: string,
  apiVersion: string,
  kind: string,
  name: string,
): Promise<T | undefined> {
  try {
    return await kube.objects.read<T>({ apiVersion, kind, metadata: { name, namespace } });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
