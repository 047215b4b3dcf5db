import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import {
  clusterEnv,
  type ClusterEnv,
  clusterImages,
  clusterKube,
  eventually,
  followKubectl,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { startControllerWithWebhooks, type ControllerWithWebhooks } from '../testing/controller-webhooks.js';
import type { Kube } from '../kube/client.js';

// No request lost on a rollout: examples/hello, injected by the webhook with the runtime image built from
// the Dockerfile, restarted five times while clients send requests through Traefik without pause. Every
// answer must be a 2xx: a refused connection, a reset or a 502 is a lost request.

const ROLLOUTS = 5;
const CLIENTS = 4;

interface LoadResult {
  ok: number;
  failures: string[];
  /** When each failure came, from the load's start, and what it said. */
  timeline: string[];
}

/** Clients sending GETs one after another until `stop` resolves; counts every non-2xx and error. */
function load(url: string, stop: Promise<void>): Promise<LoadResult> {
  const started = Date.now();
  let stopped = false;
  void stop.then(() => (stopped = true));
  const result: LoadResult = { ok: 0, failures: [], timeline: [] };
  const client = async (): Promise<void> => {
    while (!stopped) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await response.text();
        if (response.status >= 200 && response.status < 300) result.ok += 1;
        else {
          result.failures.push(`HTTP ${response.status}`);
          result.timeline.push(
            `+${Date.now() - started} ms HTTP ${response.status} ${body.slice(0, 80).trim()}`,
          );
        }
      } catch (error) {
        result.failures.push(String((error as Error).cause ?? error));
        result.timeline.push(`+${Date.now() - started} ms ${String((error as Error).cause ?? error)}`);
      }
    }
  };
  return Promise.all(Array.from({ length: CLIENTS }, client)).then(() => result);
}

describe('a function rolled out under load', () => {
  let env: ClusterEnv;
  let kube: Kube;
  let running: ControllerWithWebhooks | undefined;
  const namespace = testNamespace('e2e-rollout');

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    const images = clusterImages();
    await kube.core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
    });
    running = await startControllerWithWebhooks(env, kube, {
      identity: `rollout-${namespace}`,
      leaseNamespace: namespace,
      namespaces: [namespace],
      runtimeImages: { nodejs22: images.runtimeNodejs22 },
    });
    const yaml = await readFile(new URL('../../examples/hello/function.yaml', import.meta.url), 'utf8');
    const objects = loadAllYaml(yaml) as KubernetesObject[];
    for (const object of objects) {
      object.metadata!.namespace = namespace;
      if (object.kind === 'Deployment') {
        object.metadata!.annotations!['cloudbase.dev/route'] = `/${namespace}/hello`;
        // Two pods throughout, whatever the load: a fixed-size function.
        object.metadata!.annotations!['cloudbase.dev/min-scale'] = '2';
        object.metadata!.annotations!['cloudbase.dev/max-scale'] = '2';
        (object as { spec: { replicas: number } }).spec.replicas = 2;
      }
    }
    const applied = await kubectl(
      ['apply', '-f', '-'],
      objects.map((o) => JSON.stringify(o)).join('\n'),
      env,
    );
    expect(applied).toMatchObject({ code: 0 });
    await eventually(
      'the function to answer through Traefik',
      async () => ((await fetch(`${env.traefikUrl}/${namespace}/hello`)).status === 200 ? true : undefined),
      180_000,
      500,
    );
  }, 300_000);

  afterAll(async () => {
    await running?.stop();
    await removeNamespace(namespace);
  }, 300_000);

  it('runs its pods without a ServiceAccount token, and with time to drain', async () => {
    const pods = await kube.core.listNamespacedPod({
      namespace,
      labelSelector: 'cloudbase.dev/function=hello',
    });
    expect(pods.items.length).toBeGreaterThan(0);
    for (const pod of pods.items) {
      expect(pod.spec?.automountServiceAccountToken).toBe(false);
      const mounts = pod.spec!.containers.flatMap((c) => c.volumeMounts ?? []).map((m) => m.mountPath);
      expect(mounts).not.toContain('/var/run/secrets/kubernetes.io/serviceaccount');
      expect(pod.spec?.terminationGracePeriodSeconds).toBeGreaterThan(30);
    }
  });

  it(`loses no request over ${ROLLOUTS} rollout restarts`, async () => {
    let finish!: () => void;
    const stop = new Promise<void>((resolve) => (finish = resolve));
    // What Traefik is given: each endpoint of the function's Service (ready/serving/terminating), as it changes.
    const slices = followKubectl(
      [
        '-n',
        namespace,
        'get',
        'endpointslices',
        '-w',
        '-o',
        'jsonpath={.metadata.name}{range .endpoints[*]} {.targetRef.name}={.conditions.ready}/{.conditions.serving}/{.conditions.terminating}{end}{"\\n"}',
      ],
      env,
    );
    const running = load(`${env.traefikUrl}/${namespace}/hello?name=load`, stop);
    try {
      for (let i = 0; i < ROLLOUTS; i += 1) {
        const restart = await kubectl(
          ['-n', namespace, 'rollout', 'restart', 'deployment/hello'],
          undefined,
          env,
        );
        expect(restart).toMatchObject({ code: 0 });
        const status = await kubectl(
          ['-n', namespace, 'rollout', 'status', 'deployment/hello', '--timeout=180s'],
          undefined,
          env,
        );
        expect(status).toMatchObject({ code: 0 });
      }
      // The last old pods drain after the rollout reports done: keep the load on until they are gone.
      await eventually(
        'the old pods to be gone',
        async () => {
          const pods = await kube.core.listNamespacedPod({
            namespace,
            labelSelector: 'cloudbase.dev/function=hello',
          });
          return pods.items.every((p) => p.metadata?.deletionTimestamp == null) ? true : undefined;
        },
        120_000,
        500,
      );
    } finally {
      finish();
    }
    const result = await running;
    const sliceTimeline = slices.stop();
    if (result.failures.length > 0)
      console.log(
        `failures, from the load's start:\n${result.timeline.slice(0, 40).join('\n')}\n` +
          `the Service's endpoints (ready/serving/terminating), from the same start:\n${sliceTimeline.join('\n')}`,
      );
    console.log(
      JSON.stringify({ rollouts: ROLLOUTS, clients: CLIENTS, ok: result.ok, failed: result.failures.length }),
    );
    expect(result.ok).toBeGreaterThan(100);
    expect(result.failures).toEqual([]);
  });
});
