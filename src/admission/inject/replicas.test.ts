import { describe, expect, it } from '@jest/globals';
import type { FunctionScaling } from '../../contract/function-spec.js';
import { admittedReplicas } from './replicas.js';

const scaling = (minScale: number, maxScale: number): FunctionScaling => ({
  minScale,
  maxScale,
  targetConcurrency: 100,
  scaleToZeroAfterMs: 60_000,
  stableWindowMs: 60_000,
});

describe('admittedReplicas', () => {
  it.each([
    // min, max, requested, live → replicas
    [0, 10, undefined, undefined, 1],
    [2, 10, undefined, undefined, 2],
    [0, 10, 0, undefined, 0],
    [0, 10, 3, undefined, 3],
    [0, 10, 30, undefined, 10],
    [4, 10, 1, undefined, 4],
    [0, 10, 1, 6, 6], // an UPDATE keeps the autoscaler's count
    [0, 10, undefined, 0, 0], // a function at zero stays there
    [0, 3, 1, 6, 3], // max-scale lowered
    [5, 5, 1, 2, 5], // made fixed-size
  ])('min %i max %i, asked %s, live %s → %i', (min, max, requested, live, expected) => {
    expect(admittedReplicas(scaling(min, max), requested, live)).toBe(expected);
  });
});
