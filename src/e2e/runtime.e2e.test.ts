import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import {
  clusterEnv,
  type ClusterEnv,
  clusterImages,
  type ClusterImages,
  clusterKube,
  eventually,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { startControllerProcess, type ControllerProcess } from '../testing/controller-process.js';
import { startFileServer, type FileServer } from '../testing/file-server.js';
import { applyExample, packTarballFunction, startNpmRegistry } from '../testing/examples.js';
import { registerWebhooks } from '../testing/webhook-configurations.js';
import { startTestWebhookServer, type TestWebhookServer } from '../testing/webhook-server.js';
import { defaultRuntimeImages } from '../admission/inject/config.js';
import { deleteIfExists, readConfigMapKeys, type Kube } from '../kube/client.js';

// The whole path of a function on the local cluster: `kubectl apply` of an example → the real API server
// calls our webhook (on the host, as in webhooks.e2e.test.ts), which injects the runtime image built from
// the project's Dockerfile (cluster/build-cloudbase-images.sh) → the kubelet runs the fetch and install init
// containers and the runtime → `cloudbase controller` (its own process) writes the Service and IngressRoute →
// Traefik answers at TRAEFIK_URL. Nothing leaves this machine: the npm registry the install step uses and the
// https:// tarball are servers this test runs on the host's address on the cluster link.

const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};

interface Example {
  /** Folder under examples/. */
  dir: string;
  /** Path and query after the function's route. */
  path: string;
  init?: RequestInit;
  contentType: string;
  body: string;
}

/** One function per signature, and one with a dependency; bodies exact, as a client sees them. */
const EXAMPLES: Example[] = [
  {
    dir: 'openfaas',
    path: '',
    init: { method: 'POST', body: '{"name":"cloudbase"}', headers: { 'content-type': 'application/json' } },
    contentType: 'application/json; charset=utf-8',
    body: '{"body":"{\\"name\\":\\"cloudbase\\"}","content-type":"application/json"}',
  },
  { dir: 'fission', path: '', contentType: 'text/html; charset=utf-8', body: 'hello, world!\n' },
  { dir: 'kubeless', path: '', contentType: 'text/plain; charset=utf-8', body: 'hello world!' },
  {
    dir: 'knative',
    path: '?name=cloudbase',
    contentType: 'application/json; charset=utf-8',
    body: '{"query":{"name":"cloudbase"}}',
  },
  {
    dir: 'with-dependency',
    path: '?d=2+days',
    contentType: 'application/json; charset=utf-8',
    body: '{"2 days":172800000}',
  },
];

/** What the test measured, printed as one JSON line at the end. */
const timings: Record<string, number> = {};

describe('functions on the local cluster, from kubectl apply to an answer through Traefik', () => {
  let env: ClusterEnv;
  let kube: Kube;
  let images: ClusterImages;
  let controller: ControllerProcess | undefined;
  let registry: FileServer;
  let tarballs: FileServer;
  const webhooks: TestWebhookServer[] = [];
  const configurations: KubernetesObject[] = [];
  const fileStarted = Date.now();
  // Examples and the throwing function; the https:// source gets its own namespace, whose webhook injects
  // the runtime image that also trusts the test CA.
  const namespace = testNamespace('e2e-runtime');
  const tarballNamespace = testNamespace('e2e-tarball');

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    images = clusterImages();
    for (const name of [namespace, tarballNamespace]) {
      await kube.core.createNamespace({ body: { metadata: { name, labels: RESTRICTED } } });
    }
    const tls = {
      cert: await readFile(join(images.testTlsDir, 'tls.crt'), 'utf8'),
      key: await readFile(join(images.testTlsDir, 'tls.key'), 'utf8'),
    };
    [registry, tarballs] = await Promise.all([
      startNpmRegistry(env.hostIp),
      startFileServer({ host: env.hostIp, tls }),
    ]);
    const withImage = async (ns: string, image: string): Promise<void> => {
      const webhook = await startTestWebhookServer({
        host: env.hostIp,
        injection: { runtimeImages: { ...defaultRuntimeImages(), nodejs22: image } },
        configMapKeys: (ns, name) => readConfigMapKeys(kube, ns, name, 1500),
      });
      webhooks.push(webhook);
      configurations.push(...(await registerWebhooks(kube, env, ns, webhook)));
    };
    await Promise.all([
      withImage(namespace, images.runtimeNodejs22),
      withImage(tarballNamespace, images.runtimeNodejs22TestCa),
    ]);
    controller = startControllerProcess(env, {
      identity: `runtime-${namespace}`,
      leaseNamespace: namespace,
      leaseName: `cloudbase-controller-${namespace}`,
    });
  }, 150_000);

  afterAll(async () => {
    await controller?.stop();
    for (const configuration of configurations) await deleteIfExists(kube, configuration);
    for (const ns of [namespace, tarballNamespace]) await removeNamespace(ns);
    await Promise.all([...webhooks.map((w) => w.stop()), registry?.stop(), tarballs?.stop()]);
    timings['file_s'] = seconds(Date.now() - fileStarted);
    console.log(`runtime e2e timings: ${JSON.stringify(timings)}`);
  }, 400_000);

  it('runs examples/hello: kubectl apply → Ready → {"hello":"cloudbase"} through Traefik', async () => {
    const started = Date.now();
    const { name, route } = await applyExample(env, 'hello', namespace);
    const response = await answer(env, `${route}?name=cloudbase`, 200, undefined, () =>
      describePods(kube, namespace, name),
    );
    timings['hello_apply_to_first_200_s'] = seconds(Date.now() - started);
    expect(response.body).toBe('{"hello":"cloudbase"}');
    expect(response.contentType).toBe('application/json; charset=utf-8');
    await waitReady(kube, namespace, name);
  }, 240_000);

  describe('one example per signature, and one with a dependency', () => {
    const applied = new Map<string, Promise<{ name: string; route: string }>>();
    beforeAll(() => {
      // All at once: the pods start side by side, each test then waits for its own.
      for (const example of EXAMPLES) {
        const extra =
          example.dir === 'with-dependency' ? { '.npmrc': `registry=${registry.url}/\n` } : undefined;
        const applying = applyExample(env, example.dir, namespace, extra);
        applying.catch(() => undefined); // reported by the example's own test
        applied.set(example.dir, applying);
      }
    });

    it.each(EXAMPLES)(
      'runs examples/$dir and answers its exact body',
      async (example) => {
        const { name, route } = await applied.get(example.dir)!;
        const response = await answer(env, `${route}${example.path}`, 200, example.init, () =>
          describePods(kube, namespace, name),
        );
        expect(response.body).toBe(example.body);
        expect(response.contentType).toBe(example.contentType);
        await waitReady(kube, namespace, name);
      },
      240_000,
    );

    it('mounts a ConfigMap without a lockfile as the workspace (no build container), and builds the one with', async () => {
      const [openfaas, withDependency] = await Promise.all([
        applied.get('openfaas')!,
        applied.get('with-dependency')!,
      ]);
      await Promise.all([
        waitReady(kube, namespace, openfaas.name),
        waitReady(kube, namespace, withDependency.name),
      ]);
      const mounted = (await functionPod(kube, namespace, openfaas.name)).spec!;
      expect(mounted.initContainers).toBeUndefined();
      expect(mounted.containers[0]!.volumeMounts).toContainEqual({
        name: 'cloudbase-source',
        mountPath: '/workspace',
        readOnly: true,
      });
      expect(mounted.containers[0]!.lifecycle?.postStart?.exec?.command).toEqual([
        'cloudbase-runtime',
        'await-ready',
      ]);
      const built = (await functionPod(kube, namespace, withDependency.name)).spec!;
      expect(built.initContainers?.map((c) => c.name)).toEqual(['cloudbase-build']);
    }, 240_000);

    it('installed the locked dependency with npm ci, from the registry the ConfigMap .npmrc names', async () => {
      await applied.get('with-dependency');
      // The build init container's install step fetched the tarball (whose integrity npm checked against the lockfile).
      expect(registry.requests).toContainEqual({ path: '/ms/-/ms-2.1.3.tgz', status: 200 });
      const pod = await functionPod(kube, namespace, 'duration');
      const logs = await kubectl(
        ['-n', namespace, 'logs', pod.metadata!.name!, '-c', 'cloudbase-build'],
        '',
        env,
      );
      expect(logs.stdout).toContain(
        'cloudbase install: npm ci --omit=dev --no-audit --no-fund in /workspace',
      );
      expect(logs.stdout).toMatch(/added 1 package/);
    });
  });

  // The examples above ran in a namespace labelled enforce=restricted from its creation.
  it('runs the pods in a namespace that enforces the restricted Pod Security Standard, which refuses others', async () => {
    const pods = await kube.core.listNamespacedPod({ namespace });
    const running = pods.items
      .filter((p) => p.status?.phase === 'Running')
      .map((p) => p.metadata?.labels?.['cloudbase.dev/function']);
    expect(running).toEqual(
      expect.arrayContaining([
        'hello',
        'openfaas-echo',
        'fission-hello',
        'kubeless-hello',
        'knative-echo',
        'duration',
      ]),
    );
    for (const pod of pods.items) {
      expect(pod.spec?.containers.map((c) => c.securityContext?.readOnlyRootFilesystem)).toEqual([true]);
      expect(pod.spec?.containers[0]?.securityContext?.runAsUser).toBe(1000);
    }
    // The control: the namespace really enforces, a pod that is not restricted is refused.
    const plain = await kubectl(
      ['-n', namespace, 'run', 'not-restricted', `--image=${images.runtimeNodejs22}`, '--restart=Never'],
      '',
      env,
    );
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('violates PodSecurity "restricted:latest"');
  });

  it('answers 500 when the handler throws, logs the error, and does not restart the pod', async () => {
    expect(await kubectl(['apply', '-f', '-'], throwingFunctionYaml(namespace), env)).toMatchObject({
      code: 0,
    });
    const route = `/${namespace}/thrower`;
    const first = await answer(env, route, 500, undefined, () => describePods(kube, namespace, 'thrower'));
    expect(first.body).toBe('Internal Server Error');
    const pod = await waitReady(kube, namespace, 'thrower');
    // Two Traefik replicas, each rebuilding on its own: the first answer came through one of them. Wait until
    // six answers in a row come from the function (both replicas route it), then check every answer.
    await eventually(
      'every Traefik replica to route to the thrower',
      async () => {
        for (let i = 0; i < 6; i++) {
          const response = await fetch(`${env.traefikUrl}${route}/warm-${i}`);
          await response.arrayBuffer();
          if (response.status !== 500) return undefined;
        }
        return true;
      },
      30_000,
      200,
    );
    for (let i = 0; i < 3; i++) {
      const again = await fetch(`${env.traefikUrl}${route}/again-${i}`);
      expect({ status: again.status, body: await again.text() }).toEqual({
        status: 500,
        body: 'Internal Server Error',
      });
    }
    const after = await functionPod(kube, namespace, 'thrower');
    expect(after.metadata?.uid).toBe(pod.metadata?.uid);
    expect(after.status?.containerStatuses?.map((c) => c.restartCount)).toEqual([0]);
    expect(after.status?.containerStatuses?.[0]?.ready).toBe(true);
    const logs = await kubectl(['-n', namespace, 'logs', pod.metadata!.name!, '-c', 'function'], '', env);
    expect(logs.stdout).toContain('the database is down');
  }, 240_000);

  it('stops an https:// source with a wrong sha256 in the fetch init container, and runs it once the annotation is fixed', async () => {
    const tgz = await packTarballFunction('from a tarball, sha256 checked');
    const path = '/from-tarball-1.0.0.tgz';
    tarballs.set(path, tgz);
    const url = `${tarballs.url}${path}`;
    const right = createHash('sha256').update(tgz).digest('hex');
    const wrong = createHash('sha256').update('not the tarball').digest('hex');
    const applied = await kubectl(
      ['apply', '-f', '-'],
      tarballFunctionYaml(tarballNamespace, url, wrong),
      env,
    );
    expect(applied).toMatchObject({ code: 0 });
    const expected = `cloudbase fetch: sha256 mismatch for ${url}: expected ${wrong}, got ${right}; fix the cloudbase.dev/source-sha256 annotation`;
    const failed = await eventually(
      'the cloudbase-build init container to fail with the sha256 mismatch',
      async () => {
        const pods = await kube.core.listNamespacedPod({
          namespace: tarballNamespace,
          labelSelector: 'cloudbase.dev/function=from-tarball',
        });
        return pods.items.find((p) => fetchFailure(p) !== undefined);
      },
      90_000,
      500,
    );
    expect(fetchFailure(failed)).toBe(expected);
    const described = await kubectl(
      ['-n', tarballNamespace, 'describe', 'pod', failed.metadata!.name!],
      '',
      env,
    );
    expect(described.stdout).toContain(`sha256 mismatch for ${url}: expected ${wrong}, got ${right}`);

    const fixed = await kubectl(
      [
        '-n',
        tarballNamespace,
        'annotate',
        'deployment',
        'from-tarball',
        `cloudbase.dev/source-sha256=${right}`,
        '--overwrite',
      ],
      '',
      env,
    );
    expect(fixed).toMatchObject({ code: 0 });
    const response = await answer(env, `/${tarballNamespace}/from-tarball/`, 200, undefined, () =>
      describePods(kube, tarballNamespace, 'from-tarball'),
    );
    expect(response.body).toBe('from a tarball, sha256 checked\n');
    const pod = await waitReady(kube, tarballNamespace, 'from-tarball');
    expect(pod.spec?.initContainers?.[0]?.image).toBe(images.runtimeNodejs22TestCa);
    expect(tarballs.requests.filter((r) => r.path === path).length).toBeGreaterThanOrEqual(2);
  }, 330_000);
});

const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** GETs (or `init`s) TRAEFIK_URL + path until it answers `status`; the timeout names the last answer and the pods. */
async function answer(
  env: ClusterEnv,
  path: string,
  status: number,
  init: RequestInit | undefined,
  diagnose: () => Promise<string>,
): Promise<{ body: string; contentType: string | null }> {
  let last = 'no answer yet';
  try {
    return await eventually(
      `${path} to answer ${status} through Traefik`,
      async () => {
        const response = await fetch(`${env.traefikUrl}${path}`, {
          ...init,
          signal: AbortSignal.timeout(5000),
        });
        const body = await response.text();
        last = `${response.status} ${JSON.stringify(body.slice(0, 200))}`;
        return response.status === status
          ? { body, contentType: response.headers.get('content-type') }
          : undefined;
      },
      150_000,
      200,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last answer: ${last}\n${await diagnose()}`);
  }
}

/** Waits until the function's Deployment has rolled out one ready pod; returns that pod. */
async function waitReady(kube: Kube, namespace: string, name: string): Promise<V1Pod> {
  await eventually(
    `deployment ${namespace}/${name} to have one updated, ready replica`,
    async () => {
      const d = await kube.apps.readNamespacedDeployment({ name, namespace });
      const s = d.status;
      return (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
        s?.updatedReplicas === 1 &&
        s.readyReplicas === 1 &&
        s.replicas === 1
        ? true
        : undefined;
    },
    60_000,
  );
  return functionPod(kube, namespace, name);
}

async function functionPod(kube: Kube, namespace: string, name: string): Promise<V1Pod> {
  const pods = await kube.core.listNamespacedPod({
    namespace,
    labelSelector: `cloudbase.dev/function=${name}`,
  });
  const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
  if (live.length !== 1)
    throw new Error(`expected one running pod of ${namespace}/${name}, found ${live.length}`);
  return live[0]!;
}

/** One line per pod and container state: what a failing wait shows instead of just "timed out". */
async function describePods(kube: Kube, namespace: string, name: string): Promise<string> {
  const pods = await kube.core.listNamespacedPod({
    namespace,
    labelSelector: `cloudbase.dev/function=${name}`,
  });
  if (pods.items.length === 0) return `no pods of ${namespace}/${name}`;
  return pods.items
    .map((p) => {
      const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
      const containers = statuses.map(
        (c) => `${c.name}: ${JSON.stringify({ state: c.state, lastState: c.lastState })}`,
      );
      return [`pod ${p.metadata?.name} ${p.status?.phase}`, ...containers].join('\n  ');
    })
    .join('\n');
}

/** The termination message of the pod's failed cloudbase-build container, if it failed. */
function fetchFailure(pod: V1Pod): string | undefined {
  const status = pod.status?.initContainerStatuses?.find((c) => c.name === 'cloudbase-build');
  const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
  return terminated && terminated.exitCode !== 0 ? terminated.message?.trim() : undefined;
}

function tarballFunctionYaml(namespace: string, url: string, sha256: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: from-tarball
  namespace: ${namespace}
  annotations:
    cloudbase.dev/function: 'true'
    cloudbase.dev/source: ${url}
    cloudbase.dev/source-sha256: ${sha256}
spec:
  template:
    spec:
      containers:
        - name: function
`;
}

function throwingFunctionYaml(namespace: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: thrower-code
  namespace: ${namespace}
data:
  index.js: |
    export default async function handler() {
      throw new Error('the database is down');
    }
  package.json: '{ "type": "module" }'
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: thrower
  namespace: ${namespace}
  annotations:
    cloudbase.dev/function: 'true'
    cloudbase.dev/source: configmap:thrower-code
spec:
  template:
    spec:
      containers:
        - name: function
`;
}
