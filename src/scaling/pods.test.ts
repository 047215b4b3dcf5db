import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { functionPodObject } from '../testing/function-pod.js';
import { functionPod } from './pods.js';

const pod = (overrides: { ready?: boolean; ip?: string; deleting?: boolean; phase?: string } = {}): V1Pod =>
  functionPodObject({
    uid: 'u1',
    name: 'hello-abc',
    ip: overrides.ip === '' ? undefined : (overrides.ip ?? '10.0.0.7'),
    ready: overrides.ready ?? true,
    ...(overrides.phase === undefined ? {} : { phase: overrides.phase }),
    ...(overrides.deleting === undefined ? {} : { deleting: overrides.deleting }),
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
