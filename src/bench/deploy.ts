// `npm run bench:deploy -- --runs N`: seconds from `kubectl apply` of a new function (runtime image present,
// source in a ConfigMap, no dependencies) to its first 200 through Traefik, over N functions applied one after
// the other to the local cluster with Cloudbase installed in it (hack/install.sh). Prints one JSON line last:
// {"runs":N,"p50_s":..,"p95_s":..}; the runs themselves go to stderr.
import { parseArgs } from 'node:util';
import { DiscoveryV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { clusterEnv, clusterKube, kubectl } from '../testing/cluster.js';
import { functionDeploymentYaml } from '../testing/webhook-configurations.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1 || runs > 200) {
  throw new Error(`--runs ${values.runs}: use a whole number from 1 to 200`);
}
const env = clusterEnv();
const kube = clusterKube(env);
const discovery = kube.config.makeApiClient(DiscoveryV1Api);
const namespace = `bench-deploy-${Date.now().toString(36)}`;

/** examples/hello's shape: a ConfigMap with the handler and the smallest annotated Deployment. */
function functionYaml(name: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-code
  namespace: ${namespace}
data:
  index.js: |
    export default async function handler() {
      return { hello: '${name}' };
    }
  package.json: |
    { "type": "module" }
---
${functionDeploymentYaml(
  namespace,
  name,
  {
    'cloudbase.dev/function': 'true',
    'cloudbase.dev/source': `configmap:${name}-code`,
    'cloudbase.dev/route': `/${namespace}/${name}`,
  },
  1,
)}`;
}

/** Polls the route every 20 ms until it answers 200; resolves with the seconds since `started`. */
async function firstOk(url: string, started: number, timeoutMs: number): Promise<number> {
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return (performance.now() - started) / 1000;
    } catch {
      // Traefik restarting or the node's link not up: keep trying until the deadline.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
}

/**
 * When the run's pod passed each stage, in seconds since `started`, as its watch events arrive: where a slow
 * run lost its time (scheduling, the kubelet's container start and status relist, readiness, Traefik).
 */
async function watchStages(
  name: string,
  started: number,
): Promise<{ stages: Map<string, number>; stop: () => void }> {
  const stages = new Map<string, number>();
  const mark = (stage: string): void => {
    if (!stages.has(stage)) stages.set(stage, (performance.now() - started) / 1000);
  };
  const request = await new Watch(kube.config).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { labelSelector: `cloudbase.dev/function=${name}` },
    (_phase: string, pod: V1Pod) => {
      if (pod.spec?.nodeName) mark('scheduled');
      const function_ = pod.status?.containerStatuses?.find((c) => c.name === 'function');
      if (function_?.state?.running) mark('running');
      if (function_?.ready) mark('ready');
    },
    () => undefined,
  );
  return { stages, stop: () => request.abort() };
}

/**
 * Waits until a deleted function has left no trace the next run would share the node with: no pod, no
 * children (Kubernetes' garbage collector removes them after the Deployment), its route answering 404, and
 * then Traefik's provider throttle (1 s, traefik/traefik.yaml) passed, since that 404 was a rebuild.
 */
async function untilGone(name: string): Promise<void> {
  const deadline = performance.now() + 120_000;
  const selector = { namespace, labelSelector: `cloudbase.dev/function=${name}` };
  for (;;) {
    const [pods, services, slices, route] = await Promise.all([
      kube.core.listNamespacedPod(selector),
      kube.core.listNamespacedService({ namespace }),
      discovery.listNamespacedEndpointSlice({ namespace }),
      fetch(`${env.traefikUrl}/${namespace}/${name}`).then(async (response) => {
        await response.arrayBuffer();
        return response.status;
      }),
    ]);
    if (pods.items.length === 0 && services.items.length === 0 && slices.items.length === 0 && route === 404)
      break;
    if (performance.now() > deadline)
      throw new Error(`function ${name} still not gone 120 s after its deletion`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Then a random pause up to 1 s: waiting for this run's teardown would otherwise start every run at the same
  // phase of the kubelet's 1 s relist (the teardown is seen on a relist), always lucky or always not, where a
  // user's `kubectl apply` comes at any moment.
  await new Promise((resolve) => setTimeout(resolve, 1_100 + Math.random() * 1_000));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const created = await kubectl(['create', 'namespace', namespace]);
if (created.code !== 0) throw new Error(`cannot create namespace ${namespace}: ${created.stderr}`);
const seconds: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    const name = `fn-${run}`;
    const started = performance.now();
    const watched = await watchStages(name, started);
    const applied = await kubectl(['apply', '-f', '-'], functionYaml(name));
    if (applied.code !== 0) throw new Error(`kubectl apply of ${name} failed: ${applied.stderr}`);
    const appliedAt = (performance.now() - started) / 1000;
    const took = await firstOk(`${env.traefikUrl}/${namespace}/${name}`, started, 120_000).finally(
      watched.stop,
    );
    seconds.push(took);
    const stages = [['applied', appliedAt], ...watched.stages, ['200', took]] as const;
    console.error(
      `run ${run + 1}/${runs}: ${took.toFixed(2)} s (${stages.map(([stage, at]) => `${stage} ${at.toFixed(2)}`).join(', ')})`,
    );
    // One function at a time on the node, as a user deploying one would see it: the next run starts once
    // this one is gone, so it does not share the kubelet and Traefik with this one's teardown.
    await kubectl(['-n', namespace, 'delete', 'deployment', name, '--wait=true']);
    await untilGone(name);
  }
} finally {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
}
const sorted = [...seconds].sort((a, b) => a - b);
const round = (n: number): number => Math.round(n * 100) / 100;
console.log(
  JSON.stringify({ runs, p50_s: round(percentile(sorted, 50)), p95_s: round(percentile(sorted, 95)) }),
);
