import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import jsonPatch from 'fast-json-patch';
import { mutate } from './mutate.js';
import { validate } from './validate.js';
import { admissionRequest, decodePatch, minimalFunction, TEST_CONFIG } from '../testing/fixtures.js';

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
  const holder = mutated(minimalFunction({ 'cloudbase.dev/route': '/shop' }));
  holder.metadata!.name = 'first';
  holder.metadata!.creationTimestamp = new Date('2026-01-01T00:00:00Z');
  const claims = {
    competitors: () => [
      {
        key: 'demo/first',
        spec: {
          name: 'first',
          namespace: 'demo',
          runtime: 'nodejs22' as const,
          source: { kind: 'image' as const },
          handler: { modulePath: 'index.js' },
          signature: 'fetch' as const,
          trigger: 'http' as const,
          route: { pathPrefix: '/shop', entrypoints: ['web'] },
        },
        createdAt: new Date('2026-01-01T00:00:00Z'),
      },
    ],
  };

  it('denies a new function whose route another function holds, naming the holder', () => {
    const request = admissionRequest(mutated(minimalFunction({ 'cloudbase.dev/route': '/shop' })));
    expect(validate(request, claims).response.status).toEqual({
      code: 403,
      reason: 'Forbidden',
      message:
        'cloudbase.dev/route: the route /shop is held by function demo/first; choose another route or host',
    });
  });

  it('allows the holder itself to be updated', () => {
    const request = admissionRequest(holder, 'UPDATE');
    expect(validate(request, claims).decision).toBe('allowed');
  });

  it('allows a route on another host', () => {
    const request = admissionRequest(
      mutated(minimalFunction({ 'cloudbase.dev/route': '/shop', 'cloudbase.dev/host': 'shop.example.com' })),
    );
    expect(validate(request, claims).decision).toBe('allowed');
  });
});
