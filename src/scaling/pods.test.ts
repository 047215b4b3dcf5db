import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { functionPod } from './pods.js';

const pod = (
  overrides: { ready?: boolean; ip?: string; deleting?: boolean; phase?: string } = {},
): V1Pod => ({
  metadata: {
    uid: 'u1',
    namespace: 'demo',
    name: 'hello-abc',
    labels: { 'cloudbase.dev/function': 'hello' },
    ...(overrides.deleting ? { deletionTimestamp: new Date() } : {}),
  },
  spec: {
    containers: [
      {
        name: 'function',
        ports: [
          { name: 'http', containerPort: 8080 },
          { name: 'admin', containerPort: 9090 },
        ],
      },
    ],
  },
  status: {
    phase: overrides.phase ?? 'Running',
    ...(overrides.ip === '' ? {} : { podIP: overrides.ip ?? '10.0.0.7' }),
    conditions: [{ type: 'Ready', status: overrides.ready === false ? 'False' : 'True' }],
  },
});

describe('functionPod', () => {
  it('reads the addresses and readiness of a running pod', () => {
    expect(functionPod(pod())).toEqual({
      uid: 'u1',
      namespace: 'demo',
      name: 'hello-abc',
      function: 'hello',
      ip: '10.0.0.7',
      httpPort: 8080,
      adminPort: 9090,
      ready: true,
    });
    expect(functionPod(pod({ ready: false }))?.ready).toBe(false);
  });

  it.each([
    ['without an IP', { ip: '' }],
    ['being deleted', { deleting: true }],
    ['finished', { phase: 'Failed' }],
  ])('is undefined for a pod %s', (_, overrides) => {
    expect(functionPod(pod(overrides))).toBeUndefined();
  });
});
