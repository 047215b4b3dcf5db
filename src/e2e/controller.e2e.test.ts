import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CoreV1Event, KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  clusterEnv,
  type ClusterEnv,
  clusterKube,
  eventually,
  readObject,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import type { ControllerProcess } from '../testing/controller-process.js';
import { imageFunction } from '../testing/image-function.js';
import type { Kube } from '../kube/client.js';
import { ControllerReplicas } from '../testing/controller-replicas.js';

// The controller as its own processes against the real API server, and real Traefik serving the routes it
// writes, with the webhooks installed for the namespace as in a real cluster (served from the host, so that
// killing a controller replica here does not take admission down). Functions are complete Deployments that
// the webhook then completes; the webhook's own tests prove the injection.

describe('the controller on the local cluster', () => {
  let env: ClusterEnv;
  let kube: Kube;
  const namespace = testNamespace('e2e-controller');
  let replicas: ControllerReplicas;
  const start = (identity: string): ControllerProcess => replicas.start(identity);
  const read = <T extends KubernetesObject>(apiVersion: string, kind: string, name: string) =>
    readObject<T>(kube, namespace, apiVersion, kind, name);
  const route = (name: string) => read('traefik.io/v1alpha1', 'IngressRoute', name);
  const service = (name: string) => read('v1', 'Service', name);
  const holder = (): Promise<string | undefined> => replicas.holder();

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    replicas = new ControllerReplicas(env, kube, namespace);
    await replicas.installWebhooks();
    start('a');
    start('b');
    await eventually('a controller to lead', async () => ((await holder()) ? true : undefined), 30_000);
  }, 120_000);

  afterAll(async () => {
    await replicas?.stop();
    await removeNamespace(namespace);
  }, 300_000);

  it('writes the Service and IngressRoute of a new function within a second, and Traefik routes to its pod', async () => {
    await kube.objects.create(imageFunction(namespace, 'hello', `/${namespace}/hello`));
    const started = Date.now();
    await eventually(
      'the Service and IngressRoute',
      async () => ((await service('hello')) && (await route('hello')) ? true : undefined),
      10_000,
      50,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1000);
    const body = await eventually(
      'Traefik to answer 200 from the pod',
      async () => {
        const response = await fetch(`${env.traefikUrl}/${namespace}/hello/greet?x=1`);
        return response.status === 200 ? response.text() : undefined;
      },
      120_000,
      500,
    );
    // The pod saw the path relative to its route: the strip-prefix middleware did its job.
    expect(body).toMatch(/^hello-[a-z0-9]+-[a-z0-9]+ \/greet\?x=1$/);
    const deployment = await read<V1Deployment>('apps/v1', 'Deployment', 'hello');
    expect(deployment?.metadata?.annotations?.['cloudbase.dev/url']).toBe(`/${namespace}/hello`);
  });

  it('puts back an IngressRoute deleted by hand', async () => {
    const before = await route('hello');
    await kube.objects.delete({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: { name: 'hello', namespace },
    });
    const restored = await eventually(
      'the IngressRoute to come back',
      async () => {
        const now = await route('hello');
        return now !== undefined && now.metadata?.uid !== before?.metadata?.uid ? now : undefined;
      },
      15_000,
    );
    expect(restored.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'hello',
      controller: true,
    });
  });

  it("names the namespace's one ServersTransport in every route, and puts it back when deleted by hand", async () => {
    const transport = () => read('traefik.io/v1alpha1', 'ServersTransport', 'cloudbase-functions');
    const written = await eventually('the servers transport', transport, 10_000);
    expect((written as { spec?: unknown }).spec).toEqual({ forwardingTimeouts: { dialTimeout: '500ms' } });
    const routed = (await route('hello')) as { spec?: { routes?: { services?: object[] }[] } } | undefined;
    expect(routed?.spec?.routes?.[0]?.services?.[0]).toMatchObject({
      serversTransport: 'cloudbase-functions',
    });
    await kube.objects.delete({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'ServersTransport',
      metadata: { name: 'cloudbase-functions', namespace },
    });
    await eventually(
      'the servers transport to come back',
      async () => {
        const now = await transport();
        return now !== undefined && now.metadata?.uid !== written.metadata?.uid ? true : undefined;
      },
      15_000,
    );
  });

  it('gives a contested route to the first function and a Warning event to the second', async () => {
    await kube.objects.create(imageFunction(namespace, 'first', `/${namespace}/shared`, 0));
    await eventually('the first route', () => route('first'));
    await kube.objects.create(imageFunction(namespace, 'second', `/${namespace}/shared`, 0));
    const warning = await eventually(
      'the RouteConflict event',
      async () => {
        const events = await kube.core.listNamespacedEvent({
          namespace,
          fieldSelector: 'involvedObject.name=second',
        });
        return events.items.find((e: CoreV1Event) => e.reason === 'RouteConflict');
      },
      15_000,
    );
    expect(warning.type).toBe('Warning');
    expect(warning.message).toContain(`is held by function ${namespace}/first`);
    expect(await service('second')).toBeDefined();
    expect(await route('second')).toBeUndefined();
  });

  it('removes the children when the opt-in annotation is removed, and keeps the Deployment', async () => {
    await kube.objects.create(imageFunction(namespace, 'optout', `/${namespace}/optout`, 0));
    await eventually('the route', () => route('optout'));
    const deployment = (await read<V1Deployment>('apps/v1', 'Deployment', 'optout'))!;
    delete deployment.metadata!.annotations!['cloudbase.dev/function'];
    await kube.objects.replace(deployment);
    await eventually(
      'the children to go',
      async () => ((await route('optout')) || (await service('optout')) ? undefined : true),
      15_000,
    );
    expect(await read('apps/v1', 'Deployment', 'optout')).toBeDefined();
  });

  it('loses the children with the Deployment (garbage collection)', async () => {
    await kube.objects.create(imageFunction(namespace, 'gone', `/${namespace}/gone`, 0));
    await eventually('the route', () => route('gone'));
    await kube.objects.delete(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gone', namespace } },
      undefined,
      undefined,
      undefined,
      undefined,
      'Foreground',
    );
    await eventually(
      'the children to be collected',
      async () => ((await route('gone')) || (await service('gone')) ? undefined : true),
      60_000,
    );
  });

  it('hands over to another replica when the leader is killed', async () => {
    const leader = await eventually('a leader', holder);
    const victim = replicas.processes.find((c) => c.identity === leader)!;
    await victim.kill();
    const killedAt = Date.now();
    const successor = await eventually(
      'another replica to take the Lease',
      async () => {
        const now = await holder();
        return now !== undefined && now !== leader ? now : undefined;
      },
      20_000,
      200,
    );
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    await kube.objects.create(imageFunction(namespace, 'after-kill', `/${namespace}/after-kill`, 0));
    await eventually('the new leader to route the function', () => route('after-kill'), 15_000);
    expect(replicas.processes.find((c) => c.identity === successor)?.child.exitCode).toBeNull();
  });

  it('after being killed amid 100 applies, routes all 100 once', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `bulk-${i}`);
    const applying = (async () => {
      for (const name of names)
        await kube.objects.create(imageFunction(namespace, name, `/${namespace}/${name}`, 0));
    })();
    await eventually('some routes', async () => ((await route('bulk-10')) ? true : undefined), 30_000, 100);
    // Every running replica dies at once, mid-stream: only a fresh one is left to finish the work.
    for (const controller of replicas.processes) await controller.kill();
    await applying;
    start('c');
    const routes = await eventually(
      'all 100 routes',
      async () => {
        const list = (await kube.custom.listNamespacedCustomObject({
          group: 'traefik.io',
          version: 'v1alpha1',
          namespace,
          plural: 'ingressroutes',
        })) as { items: KubernetesObject[] };
        const bulk = list.items.filter((r) => r.metadata?.name?.startsWith('bulk-'));
        return bulk.length === 100 ? bulk : undefined;
      },
      120_000,
      1000,
    );
    expect(new Set(routes.map((r) => r.metadata?.name)).size).toBe(100);
  });

  it("deletes the namespace's ServersTransport with its last function", async () => {
    await kube.apps.deleteCollectionNamespacedDeployment({ namespace });
    await eventually(
      'the servers transport to go',
      async () =>
        (await read('traefik.io/v1alpha1', 'ServersTransport', 'cloudbase-functions')) === undefined
          ? true
          : undefined,
      60_000,
    );
  }, 90_000);
});
