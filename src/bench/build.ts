// `npm run bench:build`: seconds from `kubectl apply` to the first 200 through Traefik of image-built
// functions, on the local cluster with Cloudbase installed with its registry (hack/install.sh):
//   hello_s      a function without dependencies (a build of its code layer, then its first pod);
//   deps_miss_s  a function with a dependency, its dependencies layer not built yet (npm ci in the build);
//   deps_hit_s   the same function after a code change: its dependencies layer is reused, no npm ci;
//   noop_builds  builds started by re-applying everything unchanged (goal 0);
//   image_mb     the compressed size of the function's image (its layers, runtime included).
// Dependencies come from an npm registry served on the host. Prints one JSON line last.
import { dumpYaml } from '@kubernetes/client-node';
import { clusterEnv, clusterKube } from '../testing/cluster.js';
import { startNpmRegistry } from '../testing/examples.js';
import { imageLayers } from '../testing/registry.js';
import { applyYaml } from '../testing/scaling.js';

const env = clusterEnv();
const kube = clusterKube(env);
const namespace = `bench-build-${Date.now().toString(36)}`;

const PACKAGE = JSON.stringify({
  name: 'duration',
  version: '1.0.0',
  private: true,
  type: 'module',
  dependencies: { ms: '^2.1.3' },
});
const LOCK = JSON.stringify({
  name: 'duration',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'duration', version: '1.0.0', dependencies: { ms: '^2.1.3' } },
    'node_modules/ms': {
      version: '2.1.3',
      resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
      integrity:
        'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
      license: 'MIT',
    },
  },
});

function objects(name: string, configMap: string, data: Record<string, string>): object[] {
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configMap, namespace }, data },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace,
        annotations: { 'cloudbase.dev/function': 'true', 'cloudbase.dev/source': `configmap:${configMap}` },
      },
      spec: { template: { spec: { containers: [{ name: 'function' }] } } },
    },
  ];
}

async function apply(list: object[]): Promise<void> {
  await applyYaml(list.map((o) => dumpYaml(o)).join('---\n'), env);
}

/** Polls the function's route until it answers 200 with `body`; the seconds since `started`. */
async function firstAnswer(name: string, body: string, started: number): Promise<number> {
  const url = `${env.traefikUrl}/${namespace}/${name}`;
  while (performance.now() - started < 300_000) {
    const response = await fetch(url).catch(() => undefined);
    const text = (await response?.text()) ?? '';
    if (response?.status === 200 && text === body) return (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer ${body} within 300 s`);
}

async function builds(): Promise<number> {
  const list = await kube.core.listNamespacedEvent({ namespace, fieldSelector: 'reason=BuildStarted' });
  return list.items.length;
}

const round = (s: number): number => Math.round(s * 100) / 100;

async function main(): Promise<void> {
  await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
  const npm = await startNpmRegistry(env.hostIp);
  try {
    const hello = objects('hello', 'hello-code', {
      'index.js': "export default async () => new Response('hello');\n",
      'package.json': '{ "type": "module" }',
    });
    let started = performance.now();
    await apply(hello);
    const helloS = await firstAnswer('hello', 'hello', started);
    process.stderr.write(`hello: ${helloS.toFixed(2)} s\n`);

    const code = (marker: string): Record<string, string> => ({
      'index.js': `import ms from 'ms';\nexport default async () => new Response(String(ms('1h')) + '${marker}');\n`,
      'package.json': PACKAGE,
      'package-lock.json': LOCK,
      '.npmrc': `registry=${npm.url}/\n`,
    });
    const v1 = objects('duration', 'duration-v1', code(' v1'));
    started = performance.now();
    await apply(v1);
    const missS = await firstAnswer('duration', '3600000 v1', started);
    process.stderr.write(`dependencies, cache miss: ${missS.toFixed(2)} s\n`);

    started = performance.now();
    await apply(objects('duration', 'duration-v2', code(' v2')));
    const hitS = await firstAnswer('duration', '3600000 v2', started);
    process.stderr.write(`dependencies, cache hit: ${hitS.toFixed(2)} s\n`);
    const tarballs = npm.requests.filter((r) => r.path.endsWith('.tgz')).length;

    const before = await builds();
    await apply([...hello, ...objects('duration', 'duration-v2', code(' v2'))]);
    // A reconcile of both has happened once their Deployments' changes (none) were seen; give the
    // controller's resync-free path a moment, then count.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const noop = (await builds()) - before;

    const deployment = await kube.apps.readNamespacedDeployment({ name: 'duration', namespace });
    const image = deployment.metadata?.annotations?.['cloudbase.dev/image'] ?? '';
    const layers = await imageLayers(env, image);
    const imageMb = layers.reduce((sum, layer) => sum + layer.size, 0) / 1024 / 1024;
    process.stderr.write(`npm tarball downloads: ${tarballs} (1 expected: the cache hit ran no npm ci)\n`);
    console.log(
      JSON.stringify({
        hello_s: round(helloS),
        deps_miss_s: round(missS),
        deps_hit_s: round(hitS),
        noop_builds: noop,
        image_mb: round(imageMb),
        npm_downloads: tarballs,
      }),
    );
  } finally {
    await npm.stop();
    await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
}

await main();
