import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { formatClaim } from '../routing/claim.js';
import { claimOn, functionSpec } from '../testing/specs.js';
import { planFunction, type ChildAction, type ClaimState, type ObservedChildren } from './plan.js';

const UID = '11111111-0000-4000-8000-000000000001';
const CLAIMED_AT = Date.parse('2026-02-01T00:00:00Z');
const OWNER: ClaimState = {
  ownership: { kind: 'owner' },
  claimedAt: CLAIMED_AT,
  recorded: { state: 'current', at: CLAIMED_AT },
};

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
        'cloudbase.dev/claim': formatClaim(
          functionSpec(`demo/${name}`, {
            'cloudbase.dev/route': annotations['cloudbase.dev/route'] ?? '/hello',
          }),
          CLAIMED_AT,
        ),
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
  const plan = planFunction(d, {}, OWNER);
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
    const plan = planFunction(deployment(), {}, OWNER);
    expect(applied(plan)).toEqual([
      'apply Service/hello',
      'apply Middleware/hello-retry',
      'apply Middleware/hello-function',
      'apply Middleware/hello-strip-prefix',
      'apply IngressRoute/hello',
    ]);
    expect(plan.status).toEqual({ 'cloudbase.dev/url': '/hello' });
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
    expect(planFunction(d, stored(d), OWNER)).toEqual({ actions: [], events: [], status: {} });
  });

  it('restores an IngressRoute deleted by hand, and only it', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const observed = stored(d);
    delete observed.IngressRoute;
    expect(applied(planFunction(d, observed, OWNER))).toEqual(['apply IngressRoute/hello']);
  });

  it('repairs a Middleware edited by hand', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const observed = stored(d);
    const strip = observed.Middleware!.find((m) => m.metadata?.name === 'hello-strip-prefix');
    (strip as unknown as { spec: unknown }).spec = {
      stripPrefix: { prefixes: ['/other'] },
    };
    expect(applied(planFunction(d, observed, OWNER))).toEqual(['apply Middleware/hello-strip-prefix']);
  });

  it('updates children and URL when the route changes, deleting the middleware a root route does not need', () => {
    const before = deployment({ 'cloudbase.dev/url': '/hello' });
    const after = deployment({ 'cloudbase.dev/url': '/hello', 'cloudbase.dev/route': '/' });
    const plan = planFunction(after, stored(before), OWNER);
    expect(applied(plan)).toEqual(['apply IngressRoute/hello', 'delete Middleware/hello-strip-prefix']);
    expect(plan.status).toEqual({ 'cloudbase.dev/url': '/' });
  });

  it('deletes the children and the URL when the opt-in annotation is removed', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const observed = stored(d);
    delete d.metadata!.annotations!['cloudbase.dev/function'];
    const plan = planFunction(d, observed, OWNER);
    expect(applied(plan)).toEqual([
      'delete Service/hello',
      'delete Middleware/hello-retry',
      'delete Middleware/hello-function',
      'delete Middleware/hello-strip-prefix',
      'delete IngressRoute/hello',
    ]);
    expect(plan.status).toEqual({ 'cloudbase.dev/url': null, 'cloudbase.dev/claim': null });
  });

  describe('when another function holds the route', () => {
    const holder = claimOn('other/first', '/hello', '2026-01-01T00:00:00Z');
    const held: ClaimState = { ...OWNER, ownership: { kind: 'route-held', holder } };

    it('gets a Service but no route, and a Warning naming the holder', () => {
      const plan = planFunction(deployment(), {}, held);
      expect(applied(plan)).toEqual(['apply Service/hello']);
      expect(plan.status).toEqual({}); // there is no URL annotation to remove
      expect(plan.events).toEqual([
        {
          type: 'Warning',
          reason: 'RouteConflict',
          message:
            'cloudbase.dev/route: the route /hello on any host (entrypoints web) is held by function other/first, which claimed it first (2026-01-01T00:00:00.000Z); choose another route or host',
        },
      ]);
    });

    it('gives up a route it had, and its URL', () => {
      const d = deployment({ 'cloudbase.dev/url': '/hello' });
      const plan = planFunction(d, stored(d), held);
      expect(applied(plan)).toEqual([
        'delete Middleware/hello-retry',
        'delete Middleware/hello-function',
        'delete Middleware/hello-strip-prefix',
        'delete IngressRoute/hello',
      ]);
      expect(plan.status).toEqual({ 'cloudbase.dev/url': null });
    });
  });

  it('gives a function whose name another Deployment holds no children at all', () => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const holder = claimOn('demo/hello-v1', '/v1', '2026-01-01T00:00:00Z', {
      'cloudbase.dev/function': 'hello',
    });
    const plan = planFunction(d, stored(d), { ...OWNER, ownership: { kind: 'name-taken', holder } });
    expect(applied(plan)).toEqual([
      'delete Service/hello',
      'delete Middleware/hello-retry',
      'delete Middleware/hello-function',
      'delete Middleware/hello-strip-prefix',
      'delete IngressRoute/hello',
    ]);
    expect(plan.events.map((e) => e.reason)).toEqual(['FunctionNameConflict']);
    expect(plan.status).toEqual({ 'cloudbase.dev/url': null });
  });

  it('gives an ungranted route no IngressRoute, and says why', () => {
    const plan = planFunction(
      deployment(),
      {},
      {
        ...OWNER,
        ownership: { kind: 'not-granted', problem: 'route /hello is not granted to Namespace demo' },
      },
    );
    expect(applied(plan)).toEqual(['apply Service/hello']);
    expect(plan.events).toEqual([
      {
        type: 'Warning',
        reason: 'RouteNotGranted',
        message: 'cloudbase.dev/route: route /hello is not granted to Namespace demo',
      },
    ]);
  });

  it.each(['missing', 'stale'] as const)('writes the claim record when it is %s', (state) => {
    const d = deployment({ 'cloudbase.dev/url': '/hello' });
    const at = Date.parse('2026-03-01T00:00:00Z');
    const plan = planFunction(d, stored(d), {
      ownership: { kind: 'owner' },
      claimedAt: at,
      recorded: { state },
    });
    expect(plan.status).toEqual({ 'cloudbase.dev/claim': '2026-03-01T00:00:00.000Z hello web:*/hello' });
  });

  it('does not take over a child owned by another Deployment', () => {
    const d = deployment();
    const observed = stored(d);
    observed.Service![0]!.metadata!.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'other', uid: 'someone-else', controller: true },
    ];
    const plan = planFunction(d, observed, OWNER);
    expect(applied(plan)).toEqual([]);
    expect(plan.events[0]).toEqual({
      type: 'Warning',
      reason: 'NameConflict',
      message:
        'Service demo/hello belongs to Deployment other; give this function another name with cloudbase.dev/function',
    });
  });

  it('warns about a function admission should have refused and changes nothing', () => {
    const plan = planFunction(deployment({ 'cloudbase.dev/runtime': 'cobol' }), {}, OWNER);
    expect(plan).toEqual({
      actions: [],
      status: {},
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
