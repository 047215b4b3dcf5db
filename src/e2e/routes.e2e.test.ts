import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CoreV1Event, KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  clusterEnv,
  type ClusterEnv,
  clusterKube,
  eventually,
  kubectl,
  readObject,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { startControllerWithWebhooks, type ControllerWithWebhooks } from '../testing/controller-webhooks.js';
import { imageFunction } from '../testing/image-function.js';
import type { Kube } from '../kube/client.js';

// Route ownership on a shared cluster, through the real API server: the controller runs as its own process
// on the host and serves the webhooks too (as every in-cluster replica does), so admission and the
// controller decide from the same route table. Two tenant namespaces, A and B.

describe('routes a shared cluster can trust', () => {
  let env: ClusterEnv;
  let kube: Kube;
  let running: ControllerWithWebhooks | undefined;
  const a = testNamespace('e2e-routes-a');
  const b = testNamespace('e2e-routes-b');

  const read = <T extends KubernetesObject>(
    namespace: string,
    apiVersion: string,
    kind: string,
    name: string,
  ) => readObject<T>(kube, namespace, apiVersion, kind, name);
  const route = (namespace: string, name: string) =>
    read(namespace, 'traefik.io/v1alpha1', 'IngressRoute', name);
  const deployment = (namespace: string, name: string) =>
    read<V1Deployment>(namespace, 'apps/v1', 'Deployment', name);
  /** `kubectl apply` of a function Deployment: what a tenant does. */
  const apply = (object: V1Deployment) => kubectl(['apply', '-f', '-'], JSON.stringify(object), env);
  const fn = (namespace: string, name: string, route: string, annotations: Record<string, string> = {}) => {
    const object = imageFunction(namespace, name, route, 0);
    Object.assign(object.metadata!.annotations!, annotations);
    // What a tenant writes: Cloudbase's status annotations are not theirs.
    delete object.metadata!.annotations!['cloudbase.dev/url'];
    delete object.metadata!.annotations!['cloudbase.dev/claim'];
    const functionName = annotations['cloudbase.dev/function'];
    if (functionName !== undefined) {
      // Labelled as the webhook will label it: the function's name, not the Deployment's.
      const labels = { ...object.metadata!.labels, 'cloudbase.dev/function': functionName };
      object.metadata!.labels = labels;
      object.spec!.selector = { matchLabels: { 'cloudbase.dev/function': functionName } };
      object.spec!.template.metadata!.labels = labels;
    }
    return object;
  };
  const warning = (namespace: string, name: string, reason: string) =>
    eventually(`a ${reason} event on ${namespace}/${name}`, async () => {
      const events = await kube.core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.name=${name}`,
      });
      return events.items.find((e: CoreV1Event) => e.reason === reason);
    });

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    for (const namespace of [a, b])
      await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    running = await startControllerWithWebhooks(env, kube, {
      identity: `routes-${a}`,
      leaseNamespace: a,
      namespaces: [a, b],
      // A loser from before: both created while no webhook watched these namespaces (as when Cloudbase was
      // installed after them, or its webhooks were down), B's after A's.
      beforeRegistering: async () => {
        await kube.objects.create(fn(a, 'holder', '/contested'));
        await eventually('the holder route', () => route(a, 'holder'), 30_000);
        await kube.objects.create(fn(b, 'loser', '/contested'));
        await warning(b, 'loser', 'RouteConflict');
      },
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    for (const namespace of [a, b]) await removeNamespace(namespace);
  }, 400_000);

  it('refuses an older Deployment in B that moves onto the route A holds, and A keeps it', async () => {
    expect((await apply(fn(b, 'old', '/old'))).code).toBe(0);
    expect((await apply(fn(a, 'shop', '/shop'))).code).toBe(0);
    await eventually('the shop route', () => route(a, 'shop'), 30_000);
    const takeover = await apply(fn(b, 'old', '/shop'));
    expect(takeover.code).not.toBe(0);
    expect(takeover.stderr).toContain(
      `the route /shop on any host (entrypoints web) is held by function ${a}/shop`,
    );
    expect(await route(a, 'shop')).toBeDefined();
    expect((await deployment(b, 'old'))?.metadata?.annotations?.['cloudbase.dev/route']).toBe('/old');
  });

  it.each([
    ['a nested path', '/shop/checkout', {}, `overlaps /shop on any host (entrypoints web), held by function`],
    [
      'a host-bound route over the host-less one',
      '/shop',
      { 'cloudbase.dev/host': 'shop.example.com' },
      'overlaps /shop on any host',
    ],
  ])('refuses %s in another namespace', async (_case, path, annotations, message) => {
    const refused = await apply(
      fn(b, `nested-${path.length}-${Object.keys(annotations).length}`, path, annotations),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(message);
  });

  it('allows a nested route inside the holder’s own namespace, and routes it', async () => {
    expect((await apply(fn(a, 'checkout', '/shop/checkout'))).code).toBe(0);
    await eventually('the nested route', () => route(a, 'checkout'), 30_000);
  });

  it('refuses a second Deployment declaring a function name in use in the namespace', async () => {
    expect((await apply(fn(a, 'foo-v1', '/foo-v1', { 'cloudbase.dev/function': 'foo' }))).code).toBe(0);
    const second = await apply(fn(a, 'foo-v2', '/foo-v2', { 'cloudbase.dev/function': 'foo' }));
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(
      `the function name "foo" is taken in namespace ${a} by Deployment ${a}/foo-v1`,
    );
  });

  it('lets the loser be updated, with a warning, and deleted with foreground propagation', async () => {
    const loser = (await deployment(b, 'loser'))!;
    expect(loser.metadata?.annotations?.['cloudbase.dev/url']).toBeUndefined();
    const scaled = await kubectl(['-n', b, 'label', 'deployment', 'loser', 'team=b'], undefined, env);
    expect(scaled).toMatchObject({ code: 0 });
    expect(scaled.stderr).toContain(`is held by function ${a}/holder`);
    const deleted = await kubectl(
      ['-n', b, 'delete', 'deployment', 'loser', '--cascade=foreground', '--wait=true', '--timeout=60s'],
      undefined,
      env,
    );
    expect(deleted).toMatchObject({ code: 0 });
    expect(await deployment(b, 'loser')).toBeUndefined();
  });

  it('enforces the grant a cluster admin put on a namespace, and only there', async () => {
    const granted = await kubectl(
      ['annotate', 'namespace', b, `cloudbase.dev/allowed-path-prefixes=/${b}`],
      undefined,
      env,
    );
    expect(granted).toMatchObject({ code: 0 });
    // The controller sees the Namespace change through its watch: wait until admission does.
    const refused = await eventually('admission to apply the grant', async () => {
      const result = await apply(fn(b, 'outside', '/outside'));
      return result.code !== 0 ? result : undefined;
    });
    expect(refused.stderr).toContain(
      `route /outside is not granted to Namespace ${b}, which may route /${b} and below (cloudbase.dev/allowed-path-prefixes)`,
    );
    expect((await apply(fn(b, 'inside', `/${b}/api`))).code).toBe(0);
    await eventually('the granted route', () => route(b, 'inside'), 30_000);
    expect((await apply(fn(a, 'elsewhere', '/elsewhere'))).code).toBe(0);
  });
});
