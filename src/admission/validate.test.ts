import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import jsonPatch from 'fast-json-patch';
import { mutate } from './mutate.js';
import { validate } from './validate.js';
import { admissionRequest, decodePatch, minimalFunction, TEST_CONFIG } from '../testing/fixtures.js';
import { claimOn } from '../testing/specs.js';
import { RouteTable } from '../routing/table.js';

function mutated(d: V1Deployment): V1Deployment {
  const operations = decodePatch(
    mutate(admissionRequest(d), TEST_CONFIG).response.patch,
  ) as jsonPatch.Operation[];
  return jsonPatch.applyPatch(structuredClone(d), operations, true, false).newDocument;
}

describe('validate', () => {
  it('allows a function the mutating webhook completed', () => {
    const request = admissionRequest(mutated(minimalFunction()));
    expect(validate(request)).toEqual({
      response: { uid: request.uid, allowed: true, status: { code: 200 } },
      decision: 'allowed',
      functionName: 'hello',
    });
  });

  it('allows with a warning that suggests the nearest key for an unknown cloudbase.dev key', () => {
    const request = admissionRequest(mutated(minimalFunction({ 'cloudbase.dev/handlr': 'main.js' })));
    expect(validate(request).response).toEqual({
      uid: request.uid,
      allowed: true,
      status: { code: 200 },
      warnings: [
        'unknown annotation "cloudbase.dev/handlr" is ignored; did you mean "cloudbase.dev/handler"?',
      ],
    });
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'an unknown runtime and a relative route',
      { 'cloudbase.dev/runtime': 'deno', 'cloudbase.dev/route': 'api' },
      'cloudbase.dev/runtime="deno" is not a supported runtime; use one of nodejs22, nodejs20, nodejs24; cloudbase.dev/route="api" does not start with \'/\'; use a path such as /hello',
    ],
    [
      'an https source without a sha256',
      { 'cloudbase.dev/source': 'https://example.com/fn.tgz' },
      "cloudbase.dev/source-sha256 is required for an https:// source: set it to the tarball's sha256 (64 hexadecimal characters, e.g. from sha256sum)",
    ],
    [
      'an unknown signature',
      { 'cloudbase.dev/signature': 'azure' },
      'cloudbase.dev/signature="azure" is not a supported signature; use one of fetch, openfaas, fission, kubeless, knative',
    ],
  ])('denies %s with one message per annotation', (_case, annotations, message) => {
    const request = admissionRequest(minimalFunction(annotations));
    expect(validate(request)).toEqual({
      response: { uid: request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message } },
      decision: 'denied',
    });
  });

  it('denies an image source whose function container has no image', () => {
    const request = admissionRequest(mutated(minimalFunction({ 'cloudbase.dev/source': 'image' })));
    expect(validate(request).response.status).toEqual({
      code: 403,
      reason: 'Forbidden',
      message:
        'cloudbase.dev/source=image needs the function\'s image: set the image of the container named "function" to an image that holds the code',
    });
  });

  it('denies an image build when Cloudbase has no registry, naming the flag and the way out', () => {
    const request = admissionRequest(mutated(minimalFunction({ 'cloudbase.dev/build': 'image' })));
    const outcome = validate(request);
    expect(outcome.decision).toBe('denied');
    expect(outcome.response.status?.message).toBe(
      'cloudbase.dev/build=image needs a registry to push the function\'s image to, and this Cloudbase was installed without one (controller flag --registry); use cloudbase.dev/build=pod, or install Cloudbase with its registry (README, "Image builds")',
    );
  });

  it('denies an event function when Cloudbase has no event bus, naming the flag and the way out', () => {
    const request = admissionRequest(
      mutated(minimalFunction({ 'cloudbase.dev/trigger': 'event', 'cloudbase.dev/events': 'a.b' })),
    );
    expect(validate(request).response.status?.message).toBe(
      'cloudbase.dev/trigger=event needs the event bus, and this Cloudbase was installed without one (controller flag --events-url); use cloudbase.dev/trigger=http, or install Cloudbase with its event bus (README, "Event functions")',
    );
    expect(validate(request, undefined, new Date(), { eventsUrl: 'nats://bus:4222' }).decision).toBe(
      'allowed',
    );
  });

  it('allows an image build when Cloudbase has a registry', () => {
    const request = admissionRequest(mutated(minimalFunction({ 'cloudbase.dev/build': 'image' })));
    expect(validate(request, undefined, new Date(), { registry: 'registry.test/f' }).decision).toBe(
      'allowed',
    );
  });

  it('denies a function the mutating webhook never saw', () => {
    const deployment = minimalFunction();
    deployment.spec!.template.spec!.containers = [{ name: 'app', image: 'x:1' }];
    expect(validate(admissionRequest(deployment)).response.status.message).toBe(
      'no container named "function": the Cloudbase mutating webhook did not run; check that it is installed',
    );
  });

  it.each(['DELETE', 'CONNECT'] as const)('allows %s without reading the object', (operation) => {
    const request = admissionRequest(null, operation);
    expect(validate(request)).toEqual({
      response: { uid: request.uid, allowed: true, status: { code: 200 } },
      decision: 'skipped',
    });
  });

  it('allows a Deployment that is not a function', () => {
    const request = admissionRequest({ metadata: { name: 'web' }, spec: { selector: {}, template: {} } });
    expect(validate(request).decision).toBe('skipped');
  });
});

describe('validate, beside the controller', () => {
  const NOW = new Date('2026-12-01T00:00:00Z');
  const shop = claimOn('team-a/shop', '/shop', '2026-01-01T00:00:00Z');
  const table = new RouteTable();
  table.update(shop.key, shop);
  /** A function in `namespace` as the mutating webhook (with the table) leaves it. */
  const admitted = (namespace: string, name: string, annotations: Record<string, string>): V1Deployment => {
    const d = minimalFunction(annotations);
    d.metadata!.name = name;
    d.metadata!.namespace = namespace;
    const operations = decodePatch(
      mutate(admissionRequest(d), TEST_CONFIG, { now: NOW, routes: table }).response.patch,
    ) as jsonPatch.Operation[];
    return jsonPatch.applyPatch(structuredClone(d), operations, true, false).newDocument;
  };
  const decide = (request: ReturnType<typeof admissionRequest>) => validate(request, table, NOW);

  it('denies a new function in another namespace whose route overlaps a held one, naming the holder', () => {
    const request = admissionRequest(
      admitted('team-b', 'checkout', { 'cloudbase.dev/route': '/shop/checkout' }),
    );
    expect(decide(request).response.status).toEqual({
      code: 403,
      reason: 'Forbidden',
      message:
        'cloudbase.dev/route: the route /shop/checkout on any host (entrypoints web) overlaps /shop on any host (entrypoints web), held by function team-a/shop, which claimed it first (2026-01-01T00:00:00.000Z); choose another route or host',
    });
  });

  it('denies an old Deployment that moves onto a held route: its claim is the move, not its creation', () => {
    const old = admitted('team-b', 'old', { 'cloudbase.dev/route': '/old' });
    old.metadata!.creationTimestamp = new Date('2025-01-01T00:00:00Z');
    const moved = structuredClone(old);
    moved.metadata!.annotations!['cloudbase.dev/route'] = '/shop';
    const patch = mutate(admissionRequest(moved, 'UPDATE', old), TEST_CONFIG, { now: NOW, routes: table });
    const stored = jsonPatch.applyPatch(
      structuredClone(moved),
      decodePatch(patch.response.patch) as jsonPatch.Operation[],
      true,
      false,
    ).newDocument;
    expect(stored.metadata!.annotations!['cloudbase.dev/claim']).toBe(
      '2026-12-01T00:00:00.000Z old web:*/shop',
    );
    expect(stored.metadata!.annotations!['cloudbase.dev/url']).toBeUndefined();
    const result = decide(admissionRequest(stored, 'UPDATE', old));
    expect(result.decision).toBe('denied');
    expect(result.response.status.message).toContain('is held by function team-a/shop');
  });

  it('allows an update that keeps the name and route of a function without its route, with a warning', () => {
    const loser = admitted('team-b', 'loser', { 'cloudbase.dev/route': '/shop' });
    const scaled = structuredClone(loser);
    scaled.spec!.replicas = 3;
    const result = decide(admissionRequest(scaled, 'UPDATE', loser));
    expect(result.decision).toBe('allowed');
    expect(result.response.warnings?.[0]).toMatch(
      /is held by function team-a\/shop.*; until then this function gets no route$/,
    );
  });

  it('allows any update of a Deployment being deleted (the garbage collector removing finalizers)', () => {
    const loser = admitted('team-b', 'loser', { 'cloudbase.dev/route': '/shop' });
    const deleting = structuredClone(loser);
    deleting.metadata!.deletionTimestamp = new Date();
    deleting.metadata!.annotations!['cloudbase.dev/route'] = '/shop/elsewhere';
    expect(decide(admissionRequest(deleting, 'UPDATE', loser)).decision).toBe('skipped');
  });

  it('denies a second Deployment declaring a function name in use in the namespace', () => {
    const table2 = new RouteTable();
    const first = claimOn('team-a/foo-v1', '/v1', '2026-01-01T00:00:00Z', {
      'cloudbase.dev/function': 'foo',
    });
    table2.update(first.key, first);
    const d = minimalFunction({ 'cloudbase.dev/function': 'foo', 'cloudbase.dev/route': '/v2' });
    d.metadata!.name = 'foo-v2';
    d.metadata!.namespace = 'team-a';
    const result = validate(admissionRequest(d), table2, NOW);
    expect(result.response.status.message).toBe(
      'cloudbase.dev/function: the function name "foo" is taken in namespace team-a by Deployment team-a/foo-v1 (claimed 2026-01-01T00:00:00.000Z); one name has one Service, so choose another name with cloudbase.dev/function',
    );
  });

  it('allows the holder itself to be updated, a nested route in its own namespace, and another host', () => {
    const holder = admitted('team-a', 'shop', { 'cloudbase.dev/route': '/shop' });
    holder.metadata!.annotations!['cloudbase.dev/claim'] = '2026-01-01T00:00:00.000Z shop web:*/shop';
    expect(decide(admissionRequest(holder, 'UPDATE')).decision).toBe('allowed');
    const nested = admitted('team-a', 'checkout', { 'cloudbase.dev/route': '/shop/checkout' });
    expect(decide(admissionRequest(nested)).decision).toBe('allowed');
    const hosted = admitted('team-a', 'other', {
      'cloudbase.dev/route': '/shop',
      'cloudbase.dev/host': 'x.example',
    });
    expect(decide(admissionRequest(hosted)).decision).toBe('allowed');
  });
});
