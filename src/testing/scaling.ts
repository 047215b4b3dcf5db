/**
 * Helpers for tests of scaling on the local cluster with Cloudbase installed: a function whose handler
 * takes a while (so that load means requests in flight), its replicas, and what Traefik routes it to.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RoutedFunctionSpec } from '../contract/function-spec.js';
import { traefikServiceName } from '../controller/desired/route.js';
import type { Kube } from '../kube/client.js';
import { kubectl, type ClusterEnv } from './cluster.js';

const run = promisify(execFile);

/**
 * A ConfigMap and a function that answers `{"pod": <hostname>}` after `delayMs`, with these annotations;
 * its module takes `loadDelayMs` to load (a pod is not ready before that).
 */
export function slowFunctionYaml(
  namespace: string,
  name: string,
  annotations: Record<string, string>,
  {
    delayMs = 0,
    replicas = 1,
    loadDelayMs = 0,
  }: { delayMs?: number; replicas?: number; loadDelayMs?: number } = {},
): string {
  const code = [
    "import { hostname } from 'node:os';",
    `await new Promise((resolve) => setTimeout(resolve, ${loadDelayMs}));`,
    'export default async function handler() {',
    `  await new Promise((resolve) => setTimeout(resolve, ${delayMs}));`,
    '  return { pod: hostname() };',
    '}',
  ].join('\n');
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-code`, namespace },
    data: { 'index.js': code, 'package.json': '{ "type": "module" }' },
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': `configmap:${name}-code`,
        'cloudbase.dev/route': `/${namespace}/${name}`,
        ...annotations,
      },
    },
    spec: { replicas, template: { spec: { containers: [{ name: 'function' }] } } },
  };
  return [configMap, deployment].map((o) => JSON.stringify(o)).join('\n');
}

export async function applyYaml(yaml: string, env: ClusterEnv): Promise<void> {
  const result = await kubectl(['apply', '-f', '-'], yaml, env);
  if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
}

/** The Deployment's spec.replicas and ready replicas. */
export async function replicasOf(
  kube: Kube,
  namespace: string,
  name: string,
): Promise<{ spec: number; ready: number }> {
  const deployment: V1Deployment = await kube.apps.readNamespacedDeployment({ namespace, name });
  return { spec: deployment.spec?.replicas ?? 1, ready: deployment.status?.readyReplicas ?? 0 };
}

/** The IPs of the function's ready pods. */
export async function readyPodIps(kube: Kube, namespace: string, fn: string): Promise<string[]> {
  const pods = await kube.core.listNamespacedPod({
    namespace,
    labelSelector: `cloudbase.dev/function=${fn}`,
  });
  return pods.items
    .filter(
      (pod) =>
        pod.metadata?.deletionTimestamp == null &&
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((pod) => pod.status?.podIP ?? '')
    .sort();
}

/**
 * The server URLs each Traefik replica has for the function's service, read from its API through the API
 * server's pod proxy: the tests run on the host, outside the cluster's network namespace, where pod IPs
 * are not routed.
 */
export async function traefikServers(
  kube: Kube,
  env: ClusterEnv,
  spec: RoutedFunctionSpec,
): Promise<string[][]> {
  const service = traefikServiceName(spec);
  const pods = await kube.core.listNamespacedPod({
    namespace: 'traefik',
    labelSelector: 'app.kubernetes.io/name=traefik',
  });
  const ready = pods.items.filter((pod) =>
    pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  return Promise.all(
    ready.map(async (pod) => {
      const path = `/api/v1/namespaces/traefik/pods/${pod.metadata?.name}:9000/proxy/api/http/services/${service}`;
      const result = await kubectl(['get', '--raw', path], undefined, env);
      if (result.code !== 0) return [];
      const answer = JSON.parse(result.stdout) as { loadBalancer?: { servers?: { url: string }[] } };
      return (answer.loadBalancer?.servers ?? []).map((s) => s.url).sort();
    }),
  );
}

export interface LoadOutcome {
  /** Answers by status (0: no answer). */
  statuses: Map<number, number>;
  /** The first few answers that were not 200: when (from the load's start), the status and what it said. */
  failures: string[];
}

/** Sends `clients` requests at a time to `url` until `stop()` resolves; counts answers by status. */
export function load(url: string, clients: number): { stop(): Promise<LoadOutcome> } {
  const started = Date.now();
  let running = true;
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  const client = async (): Promise<void> => {
    while (running) {
      let status: number;
      let said: string;
      try {
        const response = await fetch(url);
        said = (await response.text()).slice(0, 80).trim();
        status = response.status;
      } catch (error) {
        said = String((error as Error).cause ?? error);
        status = 0;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== 200 && failures.length < 20)
        failures.push(`+${Date.now() - started} ms ${status} ${said}`);
    }
  };
  const clientsDone = Promise.all(Array.from({ length: clients }, client));
  return {
    async stop() {
      running = false;
      await clientsDone;
      return { statuses, failures };
    },
  };
}

/**
 * The announcements each activator pod counted (`cloudbase_activator_announcements_total`), by pod name
 * and answered status, read through the API server's pod proxy.
 */
export async function activatorAnnouncements(
  kube: Kube,
  env: ClusterEnv,
): Promise<Map<string, Map<string, number>>> {
  const pods = await kube.core.listNamespacedPod({
    namespace: 'cloudbase-system',
    labelSelector: 'app.kubernetes.io/name=cloudbase-activator',
  });
  const counts = new Map<string, Map<string, number>>();
  for (const pod of pods.items) {
    if (pod.metadata?.deletionTimestamp != null || pod.status?.phase !== 'Running') continue;
    const name = pod.metadata?.name ?? '';
    const path = `/api/v1/namespaces/cloudbase-system/pods/${name}:9090/proxy/metrics`;
    const result = await kubectl(['get', '--raw', path], undefined, env);
    if (result.code !== 0) throw new Error(`metrics of activator ${name}: ${result.stderr}`);
    const byStatus = new Map<string, number>();
    for (const match of result.stdout.matchAll(
      /^cloudbase_activator_announcements_total\{outcome="(\d+)"\} (\d+)$/gm,
    ))
      byStatus.set(match[1]!, Number(match[2]));
    counts.set(name, byStatus);
  }
  return counts;
}

/**
 * POSTs an announcement to the activator Service's admin port from the node's network namespace (where
 * ClusterIPs are served), as a function pod would; resolves with the status and the message.
 */
export async function postAnnouncement(
  kube: Kube,
  env: ClusterEnv,
  authorization: string | undefined,
  body: string,
): Promise<{ status: number; message: string }> {
  const service = await kube.core.readNamespacedService({
    namespace: 'cloudbase-system',
    name: 'cloudbase-activator',
  });
  const url = `http://${service.spec?.clusterIP}:9090/announce`;
  const headers = authorization === undefined ? [] : ['-H', `authorization: ${authorization}`];
  const { stdout } = await run('nsenter', [
    `--net=/run/netns/${env.netns}`,
    ...['curl', '-sS', '--max-time', '5', '-X', 'POST', ...headers, '--data-binary', body],
    ...['-w', '\n%{http_code}', url],
  ]);
  const lines = stdout.split('\n');
  return { status: Number(lines.pop()), message: lines.join('\n') };
}
