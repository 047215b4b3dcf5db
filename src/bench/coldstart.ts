// `npm run bench:coldstart -- --runs N [--idle-at-zero-seconds S] [--build image|pod]`: seconds from one request to a function confirmed at zero (0 replicas,
// no pod left, its route leading to the activator in every Traefik replica) to its 200 through Traefik, on the
// local cluster with Cloudbase installed (hack/install.sh). Each run waits for the function to go back to
// zero. `--build` sets the function's cloudbase.dev/build (default: the install's, `image` with its registry):
// an image-built function's pod starts with no build step, a pod-built one runs its build init container on
// every start. Prints one JSON line last: {"runs":N,"build":..,"p50_s":..,"p95_s":..,"failed":..}; the runs go
// to stderr.
import { parseArgs } from 'node:util';
import { clusterEnv, clusterKube, eventually, kubectl } from '../testing/cluster.js';
import { applyYaml, readyPodIps, replicasOf, slowFunctionYaml, traefikServers } from '../testing/scaling.js';
import { routedFunctionSpec } from '../testing/specs.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    'idle-at-zero-seconds': { type: 'string', default: '0' },
    build: { type: 'string' },
  },
});
if (values.build !== undefined && values.build !== 'image' && values.build !== 'pod') {
  throw new Error(`--build ${values.build}: use image or pod`);
}
// How long the function stays at zero before the request: 0 sends it the moment zero is confirmed, while the
// node may still be tearing the last pod down; a few seconds is a function that has been idle a while.
const idleAtZeroMs = Number(values['idle-at-zero-seconds']) * 1000;
if (!Number.isFinite(idleAtZeroMs) || idleAtZeroMs < 0 || idleAtZeroMs > 600_000) {
  throw new Error(`--idle-at-zero-seconds ${values['idle-at-zero-seconds']}: use 0 to 600`);
}
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1 || runs > 200) {
  throw new Error(`--runs ${values.runs}: use a whole number from 1 to 200`);
}
const env = clusterEnv();
const kube = clusterKube(env);
const namespace = `bench-coldstart-${Date.now().toString(36)}`;
const name = 'cold';
const spec = routedFunctionSpec(`${namespace}/${name}`, { 'cloudbase.dev/route': `/${namespace}/${name}` });
const url = `${env.traefikUrl}/${namespace}/${name}`;

/** At zero, confirmed: no replicas, no pod, and every Traefik replica's servers are the activator's only. */
async function confirmedAtZero(): Promise<boolean | undefined> {
  if ((await replicasOf(kube, namespace, name)).spec !== 0) return undefined;
  if ((await readyPodIps(kube, namespace, name)).length > 0) return undefined;
  const pods = await kube.core.listNamespacedPod({
    namespace,
    labelSelector: `cloudbase.dev/function=${name}`,
  });
  if (pods.items.length > 0) return undefined;
  const servers = await traefikServers(kube, env, spec);
  return servers.length > 0 && servers.every((urls) => urls.length > 0) ? true : undefined;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

await kubectl(['create', 'namespace', namespace], undefined, env);
let failed = 0;
let built = 'pod';
const seconds: number[] = [];
try {
  await applyYaml(
    slowFunctionYaml(namespace, name, {
      'cloudbase.dev/scale-window': '6s',
      'cloudbase.dev/scale-to-zero-after': '2s',
      ...(values.build === undefined ? {} : { 'cloudbase.dev/build': values.build }),
    }),
    env,
  );
  await eventually(
    'the function to answer',
    async () => ((await fetch(url)).status === 200 ? true : undefined),
    180_000,
  );
  // What it was built by: an image-built function records its image.
  const deployment = await kube.apps.readNamespacedDeployment({ namespace, name });
  if (deployment.metadata?.annotations?.['cloudbase.dev/image'] !== undefined) built = 'image';
  for (let run = 1; run <= runs; run++) {
    await eventually('the function to be at zero', confirmedAtZero, 120_000, 200);
    await new Promise((resolve) => setTimeout(resolve, idleAtZeroMs));
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    const took = (performance.now() - started) / 1000;
    if (response.status !== 200) failed += 1;
    else seconds.push(took);
    console.error(`run ${run}: ${response.status} in ${took.toFixed(3)} s`);
  }
} finally {
  await kubectl(['delete', 'namespace', namespace, '--wait=false'], undefined, env);
}
seconds.sort((a, b) => a - b);
const round = (s: number): number => Math.round(s * 1000) / 1000;
console.log(
  JSON.stringify({
    runs,
    build: built,
    idle_at_zero_s: idleAtZeroMs / 1000,
    p50_s: seconds.length === 0 ? null : round(percentile(seconds, 50)),
    p95_s: seconds.length === 0 ? null : round(percentile(seconds, 95)),
    failed,
  }),
);
