// `npm run bench:controller -- --functions N`: applies N functions with replicas 0 to the local cluster and
// measures, with the controller as its own process: seconds until every IngressRoute exists, seconds until
// Traefik serves every route (503: no ready pod, rather than 404: no route), and the controller's peak RSS.
// Prints one JSON line last. Needs the local cluster (`npm run cluster:up`).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Watch, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { clusterEnv, clusterKube } from '../testing/cluster.js';
import { startControllerProcess } from '../testing/controller-process.js';
import { imageFunction } from '../testing/image-function.js';

const { values } = parseArgs({
  options: { functions: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '16' } },
});
const count = Number(values.functions);
const concurrency = Number(values.concurrency);
const env = clusterEnv();
const kube = clusterKube(env);
const namespace = `bench-${Date.now().toString(36)}`;

const deployment = (name: string): V1Deployment => imageFunction(namespace, name, `/${namespace}/${name}`, 0);

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const names = Array.from({ length: count }, (_, i) => `fn-${i}`);
await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
const controller = startControllerProcess(env, {
  identity: `bench-${namespace}`,
  leaseNamespace: namespace,
  leaseName: 'bench',
  resyncSeconds: 60,
});
let peak = 0;
const sampler = setInterval(() => {
  try {
    peak = Math.max(peak, rssMiB(controller.child.pid!));
  } catch {
    // the process is gone; the result says so below
  }
}, 200);
try {
  await new Promise((resolve) => setTimeout(resolve, 3000)); // caches synced, lease taken
  // A watch, not a list every 250 ms: listing a thousand IngressRoutes that often loads the very API server
  // whose throughput is measured.
  const routed = new Set<string>();
  let allRouted: () => void = () => undefined;
  let watchEnded: (error: Error) => void = () => undefined;
  const everyRoute = new Promise<void>((resolve, reject) => {
    allRouted = resolve;
    watchEnded = reject;
  });
  const routeWatch = await new Watch(kube.config).watch(
    `/apis/traefik.io/v1alpha1/namespaces/${namespace}/ingressroutes`,
    {},
    (phase: string, route: KubernetesObject) => {
      if (phase !== 'ADDED') return;
      routed.add(route.metadata?.name ?? '');
      if (routed.size >= count) allRouted();
    },
    (error: unknown) => {
      if (routed.size < count) watchEnded(new Error(`the IngressRoute watch ended: ${String(error)}`));
    },
  );
  const started = performance.now();
  // Progress on stderr: where a slow run spends its time (a steady rate, or a stall) shows in the curve.
  const progress = setInterval(() => {
    console.error(`${((performance.now() - started) / 1000).toFixed(0)} s: ${routed.size} IngressRoutes`);
  }, 10_000);
  await pool(names, concurrency, async (name) => {
    await kube.objects.create(deployment(name));
  });
  const applied_s = (performance.now() - started) / 1000;

  let timeout: NodeJS.Timeout | undefined;
  await Promise.race([
    everyRoute,
    new Promise((_, reject) => {
      timeout = setTimeout(
        () => reject(new Error(`only ${routed.size} of ${count} IngressRoutes after 600 s`)),
        600_000,
      );
    }),
  ]).finally(() => {
    clearTimeout(timeout);
    clearInterval(progress);
    routeWatch.abort();
  });
  const routes_s = (performance.now() - started) / 1000;

  const pending = new Set(names);
  while (pending.size > 0) {
    await pool([...pending], 32, async (name) => {
      const response = await fetch(`${env.traefikUrl}/${namespace}/${name}`);
      await response.arrayBuffer();
      if (response.status === 503) pending.delete(name);
    });
    if (performance.now() - started > 900_000)
      throw new Error(`${pending.size} of ${count} routes not served after 900 s`);
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const routable_s = (performance.now() - started) / 1000;
  console.error(`applied ${count} Deployments in ${applied_s.toFixed(1)} s`);
  console.log(
    JSON.stringify({
      functions: count,
      routes_s: round(routes_s),
      routable_s: round(routable_s),
      peak_rss_mib: round(peak),
      reconcile_errors: countLines(controller.logFile, '"reconcile failed'),
    }),
  );
} finally {
  clearInterval(sampler);
  await controller.stop();
  await deleteNamespace(namespace);
}

/**
 * Deletes the namespace and waits until it is gone, so the next run does not share the API server with the
 * garbage collection of this one.
 */
async function deleteNamespace(name: string): Promise<void> {
  await kube.core.deleteNamespace({ name }).catch(() => undefined);
  const deadline = performance.now() + 300_000;
  while (performance.now() < deadline) {
    try {
      await kube.core.readNamespace({ name });
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  console.error(`namespace ${name} still terminating after 300 s`);
}

function countLines(file: string, text: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes(text)).length;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
