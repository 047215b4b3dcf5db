import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  LAST_APPLIED,
  slimBuildPod,
  slimChild,
  slimDeployment,
  slimNamespace,
  slimPod,
  slimSourceConfigMap,
  type Slimmer,
} from './slim.js';

/** Metadata as the API server returns it, with what the caches drop. */
const fullMetadata = (): Record<string, unknown> => ({
  name: 'hello',
  namespace: 'demo',
  uid: 'u1',
  resourceVersion: '7',
  generation: 3,
  creationTimestamp: '2026-01-01T00:00:00Z',
  deletionTimestamp: '2026-01-02T00:00:00Z',
  labels: { 'cloudbase.dev/function': 'hello' },
  annotations: {
    'cloudbase.dev/route': '/hello',
    'cloudbase.dev/claim': '2026-01-01T00:00:00.000Z hello web:*/hello',
    [LAST_APPLIED]: '{"apiVersion":"apps/v1","kind":"Deployment","huge":"copy"}',
  },
  ownerReferences: [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello', uid: 'u0', controller: true },
  ],
  finalizers: ['example.com/keep'],
  managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
});

/** What every cache keeps of that metadata. */
const keptMetadata = {
  name: 'hello',
  namespace: 'demo',
  uid: 'u1',
  resourceVersion: '7',
  generation: 3,
  creationTimestamp: '2026-01-01T00:00:00Z',
  deletionTimestamp: '2026-01-02T00:00:00Z',
  labels: { 'cloudbase.dev/function': 'hello' },
  annotations: {
    'cloudbase.dev/route': '/hello',
    'cloudbase.dev/claim': '2026-01-01T00:00:00.000Z hello web:*/hello',
  },
  ownerReferences: [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello', uid: 'u0', controller: true },
  ],
  finalizers: ['example.com/keep'],
};

const serviceSpec = {
  type: 'ClusterIP',
  selector: { app: 'hello' },
  ports: [{ port: 80, targetPort: 8080 }],
};
const routeSpec = {
  entryPoints: ['web'],
  routes: [{ kind: 'Rule', match: 'PathPrefix(`/hello`)', services: [{ name: 'hello', port: 80 }] }],
};

const buildPodStatus = {
  phase: 'Succeeded',
  conditions: [{ type: 'PodScheduled', status: 'True' }],
  initContainerStatuses: [{ name: 'fetch', state: { terminated: { exitCode: 0 } } }],
  containerStatuses: [{ name: 'assemble', state: { terminated: { exitCode: 0, message: 'r/x@sha256:1' } } }],
};

const cases: [string, Slimmer, () => Record<string, unknown>, Record<string, unknown>][] = [
  [
    'a Deployment keeps its metadata and replicas: no pod template, no status',
    slimDeployment,
    () => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: fullMetadata(),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'hello' } },
        template: {
          metadata: { labels: { app: 'hello' } },
          spec: { containers: [{ name: 'fn', image: 'x' }] },
        },
      },
      status: { replicas: 1, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] },
    }),
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: keptMetadata, spec: { replicas: 1 } },
  ],
  [
    'a pod keeps its addresses, ports and Ready condition',
    slimPod,
    () => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: fullMetadata(),
      spec: {
        containers: [
          {
            name: 'function',
            image: 'x',
            env: [{ name: 'A', value: 'b' }],
            ports: [{ name: 'admin', containerPort: 9090 }],
          },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
      status: {
        phase: 'Running',
        podIP: '10.0.0.7',
        podIPs: [{ ip: '10.0.0.7' }],
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True', lastTransitionTime: new Date(0) },
        ],
        containerStatuses: [{ name: 'function', ready: true }],
      },
    }),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: Object.fromEntries(Object.entries(keptMetadata).filter(([key]) => key !== 'annotations')),
      spec: { containers: [{ name: 'function', ports: [{ name: 'admin', containerPort: 9090 }] }] },
      status: { phase: 'Running', podIP: '10.0.0.7', conditions: [{ type: 'Ready', status: 'True' }] },
    },
  ],
  [
    "a build pod keeps its steps' names in order and its whole status (conditions, exits, messages)",
    slimBuildPod,
    () => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: fullMetadata(),
      spec: {
        initContainers: [{ name: 'fetch', image: 'x', command: ['sh'] }],
        containers: [{ name: 'assemble', image: 'y', env: [{ name: 'A', value: 'b' }] }],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
      status: buildPodStatus,
    }),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: keptMetadata,
      spec: { initContainers: [{ name: 'fetch' }], containers: [{ name: 'assemble' }] },
      status: buildPodStatus,
    },
  ],
  [
    'a Service keeps its metadata and spec, not its status',
    slimChild,
    () => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: fullMetadata(),
      spec: serviceSpec,
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
    }),
    { apiVersion: 'v1', kind: 'Service', metadata: keptMetadata, spec: serviceSpec },
  ],
  [
    'an IngressRoute keeps its metadata and spec',
    slimChild,
    () => ({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: fullMetadata(),
      spec: routeSpec,
    }),
    { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: keptMetadata, spec: routeSpec },
  ],
  [
    'a Middleware from a list (no kind) keeps its metadata and spec',
    slimChild,
    () => ({ metadata: fullMetadata(), spec: { stripPrefix: { prefixes: ['/hello'] } } }),
    { metadata: keptMetadata, spec: { stripPrefix: { prefixes: ['/hello'] } } },
  ],
  [
    'a Namespace keeps its metadata only (its route grants are annotations)',
    slimNamespace,
    () => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: fullMetadata(),
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    }),
    { apiVersion: 'v1', kind: 'Namespace', metadata: keptMetadata },
  ],
];

describe('the caches keep only what the controller reads', () => {
  // In place, on purpose: each object is fresh from a list or a watch event and the cache owns it.
  it.each(cases)('%s (trimmed in place)', (_case, slim, input, expected) => {
    const object = input() as KubernetesObject;
    expect(slim(object)).toBe(object);
    expect(object).toEqual(expected);
  });

  it.each([
    ['no metadata', {}],
    ['metadata without annotations', { metadata: { name: 'x' } }],
    ['metadata: null', { metadata: null }],
  ])('leaves an object with %s as it is', (_case, object) => {
    for (const slim of [slimDeployment, slimChild, slimNamespace])
      expect(slim(structuredClone(object) as KubernetesObject)).toEqual(object);
  });

  it('keeps of a ConfigMap its name and version, not its files, labels or annotations', () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'code',
        namespace: 'demo',
        uid: 'u1',
        resourceVersion: '42',
        labels: { a: '1' },
        annotations: { [LAST_APPLIED]: '{"big":"x"}' },
        managedFields: [{ manager: 'kubectl' }],
      },
      data: { 'index.js': 'x'.repeat(1000) },
      binaryData: { 'a.bin': 'AAAA' },
    } as KubernetesObject;
    expect(slimSourceConfigMap(configMap)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'code', namespace: 'demo', uid: 'u1', resourceVersion: '42' },
    });
  });

  it('keeps the other annotations when there is no last-applied one', () => {
    const object = { metadata: { annotations: { a: '1' } } } as KubernetesObject;
    expect(slimDeployment(object).metadata?.annotations).toEqual({ a: '1' });
  });
});
