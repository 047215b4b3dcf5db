// `npm run bench:deploy -- --runs N`: seconds from `kubectl apply` of a new function (runtime image present,
// source in a ConfigMap, no dependencies) to its first 200 through Traefik, over N functions applied one after
// the other to the local cluster with Cloudbase installed in it (hack/install.sh). Prints one JSON line last:
// {"runs":N,"p50_s":..,"p95_s":..}; the runs themselves go to stderr.
import { parseArgs } from 'node:util';
import { clusterEnv, kubectl } from '../testing/cluster.js';
import { functionDeploymentYaml } from '../testing/webhook-configurations.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1 || runs > 200) {
  throw new Error(`--runs ${values.runs}: use a whole number from 1 to 200`);
}
const env = clusterEnv();
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
    const applied = await kubectl(['apply', '-f', '-'], functionYaml(name));
    if (applied.code !== 0) throw new Error(`kubectl apply of ${name} failed: ${applied.stderr}`);
    const took = await firstOk(`${env.traefikUrl}/${namespace}/${name}`, started, 120_000);
    seconds.push(took);
    console.error(`run ${run + 1}/${runs}: ${took.toFixed(2)} s`);
    // One function at a time on the node, as a user deploying one would see it.
    await kubectl(['-n', namespace, 'delete', 'deployment', name, '--wait=true']);
  }
} finally {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
}
const sorted = [...seconds].sort((a, b) => a - b);
const round = (n: number): number => Math.round(n * 100) / 100;
console.log(
  JSON.stringify({ runs, p50_s: round(percentile(sorted, 50)), p95_s: round(percentile(sorted, 95)) }),
);
