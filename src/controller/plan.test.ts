import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { parseFunctionSpec } from '../contract/parse.js';
import type { RouteClaim } from './desired/conflicts.js';
import { planFunction, type ChildAction, type ObservedChildren } from './plan.js';

const UID = '11111111-0000-4000-8000-000000000001';

function deployment(annotations: Record<string, string> = {}, name = 'hello'): V1Deployment {
  return {
    metadata: {
      name,
      namespace: 'demo',
      uid: UID,
      creationTimestamp: new Date('2026-02-01T00:00:00Z'),
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'image',
        'cloudbase.dev/route': '/hello',
        ...annotations,
      },
    },
  };
}

const applied = (plan: { actions: ChildAction[] }) =>
  plan.actions.map((a) =>
    a.action === 'apply'
      ? `apply ${a.kind}/${a.object.metadata?.name}`
      : `delete ${a.ref.kind}/${a.ref.name}`,
  );

/** The children as the API server stores them after an apply: with defaults and server fields added. */
function stored(d: V1Deployment): ObservedChildren {
  const plan = planFunction(d, {}, []);
  const observed: ObservedChildren = {};
  for (const action of plan.actions) {
    if (action.action !== 'apply') continue;
    const object = structuredClone(action.object) as KubernetesObject & { spec: Record<string, unknown> };
    object.metadata = {
      ...object.metadata,
      resourceVersion: '42',
      uid: 'child-uid',
      creationTimestamp: new Date(),
    };
    if (action.kind === 'Service')
      Object.assign(object.spec, { clusterIP: '10.205.0.7', sessionAffinity: 'None', ipFamilies: ['IPv4'] });
    (observed[action.kind] ??= []).push(object);
  }
  return observed;
}

describe('planFunction', () => {
  it('creates Service, Middleware and IngressRoute in that order for a new function, and sets its URL', () => {
    const plan = planFunction(deployment(), {}, []);
    expect(applied(plan)).toEqual([
      'apply Service/hello',
      'apply Middleware/hello-strip-prefix',
      'apply IngressRoute/hello',
    ]);
    expect(plan.url).toBe('/hello');
    expect(plan.events).toEqual([
      {
        type: 'Normal',
        reason: 'RouteReady',
        message: 'Traefik routes /hello on any host (entrypoints web) to Service hello',
      },
    ]);
  });

  it('does nothing when the children exist as desired (with server defaults) and the URL is set', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    expect(planFunction(d, stored(d), [])).toEqual({ actions: [], events: [], url: undefined });
  });

  it('restores an IngressRoute deleted by hand, and only it', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const observed = stored(d);
    delete observed.IngressRoute;
    expect(applied(planFunction(d, observed, []))).toEqual(['apply IngressRoute/hello']);
  });

  it('repairs a Middleware edited by hand', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const observed = stored(d);
    (observed.Middleware![0] as unknown as { spec: unknown }).spec = {
      stripPrefix: { prefixes: ['/other'] },
    };
    expect(applied(planFunction(d, observed, []))).toEqual(['apply Middleware/hello-strip-prefix']);
  });

  it('updates children and URL when the route changes, deleting the middleware a root route does not need', () => {
    const before = deployment({ 'cloudbase.dev/url': '/hello' });
    const after = deployment({ 'cloudbase.dev/url': '/hello', 'cloudbase.dev/route': '/' });
    const plan = planFunction(after, stored(before), []);
    expect(applied(plan)).toEqual(['apply IngressRoute/hello', 'delete Middleware/hello-strip-prefix']);
    expect(plan.url).toBe('/');
  });

  it('deletes the children and the URL when the opt-in annotation is removed', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const observed = stored(d);
    delete d.metadata!.annotations!['cloudbase.dev/function'];
    const plan = planFunction(d, observed, []);
    expect(applied(plan)).toEqual([
      'delete Service/hello',
      'delete Middleware/hello-strip-prefix',
      'delete IngressRoute/hello',
    ]);
    expect(plan.url).toBeNull();
  });

  describe('when another function claimed the same route first', () => {
    const holderSpec = parseFunctionSpec({
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'image',
        'cloudbase.dev/route': '/hello',
      },
      name: 'first',
      namespace: 'other',
    });
    const claims: RouteClaim[] = [
      {
        key: 'other/first',
        spec: holderSpec.ok ? holderSpec.spec : (undefined as never),
        createdAt: new Date('2026-01-01T00:00:00Z'),
      },
    ];

    it('gets a Service but no route, and a Warning naming the holder', () => {
      const plan = planFunction(deployment(), {}, claims);
      expect(applied(plan)).toEqual(['apply Service/hello']);
      expect(plan.url).toBeUndefined(); // there is no URL annotation to remove
      expect(plan.events).toEqual([
        {
          type: 'Warning',
          reason: 'RouteConflict',
          message:
            'route /hello on any host (entrypoints web) is held by function other/first, which claimed it first; change cloudbase.dev/route or cloudbase.dev/host',
        },
      ]);
    });

    it('gives up a route it had', () => {
      const d = deployment({ 'cloudbase.dev/url': '/hello' });
      expect(applied(planFunction(d, stored(d), claims))).toEqual([
        'delete Middleware/hello-strip-prefix',
        'delete IngressRoute/hello',
      ]);
    });
  });

  it('does not take over a child owned by another Deployment', () => {
    const d = deployment();
    const observed = stored(d);
    observed.Service![0]!.metadata!.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'other', uid: 'someone-else', controller: true },
    ];
    const plan = planFunction(d, observed, []);
    expect(applied(plan)).toEqual([]);
    expect(plan.events[0]).toEqual({
      type: 'Warning',
      reason: 'NameConflict',
      message:
        'Service demo/hello belongs to Deployment other; give this function another name with cloudbase.dev/function',
    });
  });

  it('warns about a function admission should have refused and changes nothing', () => {
    const plan = planFunction(deployment({ 'cloudbase.dev/runtime': 'cobol' }), {}, []);
    expect(plan).toEqual({
      actions: [],
      url: undefined,
      events: [
        {
          type: 'Warning',
          reason: 'InvalidFunction',
          message:
            'cloudbase.dev/runtime="cobol" is not a supported runtime; use one of nodejs22, nodejs20, nodejs24',
        },
      ],
    });
  });
});
