import { describe, expect, it } from '@jest/globals';
import { backoffDelay, jitteredBackoff, WATCH_BACKOFF } from './backoff.js';

describe('WATCH_BACKOFF', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [5, 16_000],
    [6, 30_000],
    [1_000, 30_000],
  ])('after %i failures the delay is %i ms before jitter', (failures, delay) => {
    expect(backoffDelay(failures, WATCH_BACKOFF)).toBe(delay);
  });
});

describe('jitteredBackoff (equal jitter: half fixed, half random)', () => {
  it.each([
    // failures, random(), delay
    [0, 0.9, 0],
    [1, 0, 500],
    [1, 0.5, 750],
    [1, 0.999_999, 1_000],
    [2, 0, 1_000],
    [2, 0.25, 1_250],
    [5, 0, 8_000],
    [5, 0.5, 12_000],
    [6, 0, 15_000],
    [6, 0.999_999, 30_000],
    [10_000, 0.5, 22_500],
  ])('after %i failures with random() = %f waits %i ms', (failures, random, delay) => {
    expect(jitteredBackoff(failures, WATCH_BACKOFF, () => random)).toBe(delay);
  });

  it('stays between half and all of the delay, whatever the random source returns in [0, 1)', () => {
    for (let failures = 1; failures <= 12; failures += 1) {
      const full = backoffDelay(failures, WATCH_BACKOFF);
      for (const random of [0, 0.1, 0.37, 0.5, 0.81, 0.999]) {
        const delay = jitteredBackoff(failures, WATCH_BACKOFF, () => random);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
      }
    }
  });

  it('asks the random source once per delay', () => {
    let calls = 0;
    jitteredBackoff(3, WATCH_BACKOFF, () => {
      calls += 1;
      return 0.5;
    });
    expect(calls).toBe(1);
  });
});
