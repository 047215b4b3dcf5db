import { describe, expect, it } from '@jest/globals';
import type { RoutedFunctionSpec } from '../../contract/function-spec.js';
import { routedFunctionSpec } from '../../testing/specs.js';
import { functionUrl } from '../../contract/url.js';
import {
  desiredIngressRoute,
  desiredRetry,
  desiredNamespaceTransport,
  desiredStripPrefix,
  routeRule,
} from './route.js';
import { desiredService } from './service.js';

const owner = { name: 'hello', namespace: 'demo', uid: '6b1f3c1e-0000-4000-8000-000000000001' };

function spec(annotations: Record<string, string> = {}, name = 'hello'): RoutedFunctionSpec {
  return routedFunctionSpec(`demo/${name}`, annotations);
}

const ownedMetadata = (name: string) => ({
  name,
  namespace: 'demo',
  labels: { 'cloudbase.dev/function': 'hello', 'app.kubernetes.io/managed-by': 'cloudbase' },
  ownerReferences: [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'hello',
      uid: owner.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ],
});

describe('desiredService', () => {
  it('is a ClusterIP Service selecting the function pods, port 80 to the http port, owned by the Deployment', () => {
    expect(desiredService(spec(), owner)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: ownedMetadata('hello'),
      spec: {
        type: 'ClusterIP',
        selector: { 'cloudbase.dev/function': 'hello' },
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      },
    });
  });
});

describe('routeRule', () => {
  it.each<[Record<string, string>, string]>([
    [{}, '(Path(`/demo/hello`) || PathPrefix(`/demo/hello/`))'],
    [{ 'cloudbase.dev/route': '/' }, 'PathPrefix(`/`)'],
    [
      { 'cloudbase.dev/route': '/api', 'cloudbase.dev/host': 'fn.example.com' },
      'Host(`fn.example.com`) && (Path(`/api`) || PathPrefix(`/api/`))',
    ],
  ])('for %j is %s', (annotations, rule) => {
    expect(routeRule(spec(annotations))).toBe(rule);
  });
});

describe('desiredNamespaceTransport', () => {
  it('bounds the connection to a server at 500 ms, so the retry middleware moves on from a vanished pod', () => {
    expect(desiredNamespaceTransport('demo').toJSON()).toEqual({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'ServersTransport',
      metadata: {
        name: 'cloudbase-functions',
        namespace: 'demo',
        labels: { 'app.kubernetes.io/managed-by': 'cloudbase' },
      },
      spec: { forwardingTimeouts: { dialTimeout: '500ms' } },
    });
  });
});

describe('desiredIngressRoute and desiredStripPrefix', () => {
  it('route the entrypoints to the Service through a middleware that strips the prefix', () => {
    const s = spec({ 'cloudbase.dev/route': '/hello', 'cloudbase.dev/entrypoints': 'web,websecure' });
    expect(desiredIngressRoute(s, owner).toJSON()).toEqual({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: ownedMetadata('hello'),
      spec: {
        entryPoints: ['web', 'websecure'],
        routes: [
          {
            kind: 'Rule',
            match: '(Path(`/hello`) || PathPrefix(`/hello/`))',
            services: [{ name: 'hello', port: 80, serversTransport: 'cloudbase-functions' }],
            middlewares: [
              { name: 'hello-retry' },
              { name: 'hello-function' },
              { name: 'hello-strip-prefix' },
            ],
          },
        ],
      },
    });
    expect(desiredStripPrefix(s, owner)?.toJSON()).toEqual({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'Middleware',
      metadata: ownedMetadata('hello-strip-prefix'),
      spec: { stripPrefix: { prefixes: ['/hello'] } },
    });
    expect(desiredRetry(s, owner).toJSON()).toEqual({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'Middleware',
      metadata: ownedMetadata('hello-retry'),
      spec: { retry: { attempts: 5, initialInterval: '100ms' } },
    });
  });

  it('need no strip-prefix middleware for the root route, only the retry', () => {
    const s = spec({ 'cloudbase.dev/route': '/' });
    expect(desiredStripPrefix(s, owner)).toBeUndefined();
    expect(desiredIngressRoute(s, owner).spec.routes[0]?.middlewares).toEqual([
      { name: 'hello-retry' },
      { name: 'hello-function' },
    ]);
  });
});

describe('functionUrl', () => {
  it.each<[Record<string, string>, string]>([
    [{}, '/demo/hello'],
    [{ 'cloudbase.dev/host': 'fn.example.com', 'cloudbase.dev/route': '/a' }, 'http://fn.example.com/a'],
  ])('for %j is %s', (annotations, url) => {
    expect(functionUrl(spec(annotations))).toBe(url);
  });
});
