import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { slimChild, slimDeployment, slimNamespace } from './slim.js';

const metadata = () => ({
  name: 'hello',
  namespace: 'demo',
  uid: 'u1',
  resourceVersion: '7',
  creationTimestamp: new Date('2026-01-01T00:00:00Z'),
  labels: { 'cloudbase.dev/function': 'hello' },
  annotations: {
    'cloudbase.dev/route': '/hello',
    'kubectl.kubernetes.io/last-applied-configuration': '{"huge":"copy"}',
  },
  ownerReferences: [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello', uid: 'u0', controller: true },
  ],
  managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
});
const kept = {
  name: 'hello',
  namespace: 'demo',
  uid: 'u1',
  resourceVersion: '7',
  creationTimestamp: new Date('2026-01-01T00:00:00Z'),
  labels: { 'cloudbase.dev/function': 'hello' },
  annotations: { 'cloudbase.dev/route': '/hello' },
  ownerReferences: [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello', uid: 'u0', controller: true },
  ],
};

describe('the caches keep only what the controller reads', () => {
  it.each([
    ['a Deployment: metadata only', slimDeployment, { metadata: kept }],
    ['a child: metadata and spec', slimChild, { metadata: kept, spec: { type: 'ClusterIP' } }],
    ['a Namespace: metadata only', slimNamespace, { metadata: kept }],
  ])('%s', (_case, slim, expected) => {
    const object = {
      metadata: metadata(),
      spec: { type: 'ClusterIP' },
      status: { ready: true },
    } as unknown as KubernetesObject;
    expect(slim(object)).toEqual(expected);
  });

  it('leaves objects without annotations or metadata alone', () => {
    expect(slimChild({ metadata: { name: 'x' } })).toEqual({ metadata: { name: 'x' } });
    expect(slimDeployment({})).toEqual({});
  });
});
