import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_DRAIN_MS,
  RuntimeEnv,
  terminationGracePeriodSeconds,
  WEBHOOK_OWNED_ENV,
} from './runtime-env.js';

describe('terminationGracePeriodSeconds', () => {
  it.each<[string, number | undefined, number | undefined, number]>([
    ['the default timeout and drain: 30 s + 5 s + 5 s', undefined, undefined, 40],
    ['a timeout of 1 s with the default drain', 1000, undefined, 11],
    ['a timeout of 5 min', 300_000, undefined, 310],
    ['a drain the user set', undefined, 20_000, 55],
    ['no drain', 30_000, 0, 35],
    ['a fraction of a second, rounded up', 1500, 0, 7],
    ['the longest timeout and drain', 3_600_000, 300_000, 3905],
  ])('for %s', (_case, timeoutMs, drainMs, expected) => {
    expect(terminationGracePeriodSeconds(timeoutMs, drainMs)).toBe(expected);
  });
});

describe('the drain variable', () => {
  it('defaults to 5 s, longer than EndpointSlice propagation and Traefik’s 1 s provider throttle', () => {
    expect(DEFAULT_DRAIN_MS).toBe(5000);
  });

  it('is CLOUDBASE_DRAIN_MS and the user’s to set: the webhook does not rewrite it', () => {
    expect([RuntimeEnv.drainMs, WEBHOOK_OWNED_ENV.has(RuntimeEnv.drainMs)]).toEqual([
      'CLOUDBASE_DRAIN_MS',
      false,
    ]);
  });
});
