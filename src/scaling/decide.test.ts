import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { FunctionScaling } from '../contract/function-spec.js';
import { fuzzParameters } from '../testing/fuzz-seed.js';
import { decideScale, initialState, type ScaleInput, type ScaleSample, type ScalerState } from './decide.js';

const scaling: FunctionScaling = {
  minScale: 0,
  maxScale: 10,
  targetConcurrency: 10, // 7 a pod at 70 %
  scaleToZeroAfterMs: 30_000,
  stableWindowMs: 60_000,
};

/** One sample a second over (from, to], all with the same load. */
function steady(from: number, to: number, concurrency: number, held = 0): ScaleSample[] {
  const samples: ScaleSample[] = [];
  for (let at = from + 1000; at <= to; at += 1000)
    samples.push({ at, concurrency, requests: concurrency > 0 ? 1 : 0, held });
  return samples;
}

/** A state observed since long ago, last active at `lastActiveAt`. */
const settled = (lastActiveAt: number): ScalerState => ({ observingSince: -1e9, lastActiveAt });

function decide(overrides: Partial<ScaleInput>) {
  const now = overrides.now ?? 100_000;
  return decideScale({
    scaling,
    samples: [],
    replicas: 1,
    readyReplicas: overrides.replicas ?? 1,
    now,
    state: settled(now),
    zeroRouteReady: true,
    ...overrides,
  });
}

describe('decideScale', () => {
  it('names the demand it scaled on in its reason', () => {
    const samples = steady(40_000, 100_000, 14);
    expect(decide({ samples, replicas: 2 }).reason).toBe('14 requests in flight over 60s, 7 a pod');
    expect(decide({ samples, replicas: 2, demand: 'events in backlog' }).reason).toBe(
      '14 events in backlog over 60s, 7 a pod',
    );
  });

  it.each([
    // stable load, replicas → desired, and whether the panic window asks for twice the ready pods
    [7, 1, 1, false],
    [7.1, 1, 2, true],
    [35, 5, 5, false],
    [50, 5, 8, false],
    [70, 10, 10, false],
    [700, 10, 10, true], // max-scale
  ])('at %d in flight with %d pods asks for %d (panic: %s)', (load, replicas, expected, panic) => {
    const now = 100_000;
    const result = decide({ now, replicas, samples: steady(now - 60_000, now, load) });
    expect(result.replicas).toBe(expected);
    expect(result.panic).toBe(panic);
  });

  it('panics on a burst in the last tenth of the window and scales up at once', () => {
    const now = 100_000;
    const samples = [...steady(now - 60_000, now - 6000, 1), ...steady(now - 6000, now, 70)];
    const result = decide({ now, replicas: 1, samples });
    expect(result.panic).toBe(true);
    expect(result.replicas).toBe(10);
    expect(result.reason).toMatch(/^panic: 70 requests in flight over 6s, 7 a pod/);
  });

  it('does not scale down in panic mode, and leaves it a stable window after the last burst', () => {
    const now = 100_000;
    const burst = decide({ now, replicas: 2, samples: steady(now - 6000, now, 70) });
    const calmer = decide({
      now: now + 30_000,
      replicas: burst.replicas,
      state: burst.state,
      samples: steady(now + 20_000, now + 30_000, 7),
    });
    expect(calmer.panic).toBe(true);
    expect(calmer.replicas).toBe(10);
    expect(calmer.reason).toMatch(/panic mode does not scale down/);
    const after = decide({
      now: now + 61_000,
      replicas: 10,
      state: calmer.state,
      samples: steady(now + 1000, now + 61_000, 7),
    });
    expect(after.panic).toBe(false);
    expect(after.replicas).toBe(5);
  });

  it('scales down by at most half a step', () => {
    const now = 100_000;
    const result = decide({ now, replicas: 9, samples: steady(now - 60_000, now, 0.5) });
    expect(result.replicas).toBe(5);
    expect(result.reason).toMatch(/limited to half a step/);
  });

  it('does not scale down before it has observed a whole stable window (a new leader)', () => {
    const now = 100_000;
    const state = initialState(now - 30_000, 8);
    const result = decide({ now, replicas: 8, state, samples: steady(now - 30_000, now, 0.5) });
    expect(result.replicas).toBe(8);
    expect(result.reason).toMatch(/no scale-down before a whole 60s window is observed/);
  });

  it('keeps the last pod until scale-to-zero-after has passed without a request', () => {
    const now = 100_000;
    const result = decide({
      now,
      replicas: 1,
      state: settled(now - 29_000),
      samples: steady(now - 29_000, now, 0),
    });
    expect(result.replicas).toBe(1);
    expect(result.reason).toBe('idle 29s, below scale-to-zero-after 30s');
    // Serving: requests go straight to the pod.
    expect(result.zeroRoute).toBe(false);
  });

  it('scales to zero once idle for scale-to-zero-after with the activator as the route', () => {
    const now = 100_000;
    const result = decide({
      now,
      replicas: 1,
      state: settled(now - 31_000),
      samples: steady(now - 31_000, now, 0),
    });
    expect(result.replicas).toBe(0);
    expect(result.reason).toBe('no request for 31s (scale-to-zero-after 30s)');
  });

  it('keeps one pod while the activator is not the route', () => {
    const now = 100_000;
    const result = decide({
      now,
      replicas: 1,
      state: settled(now - 31_000),
      samples: steady(now - 31_000, now, 0),
      zeroRouteReady: false,
    });
    expect(result.replicas).toBe(1);
    expect(result.reason).toMatch(/activator is not the route yet/);
    expect(result.zeroRoute).toBe(true);
  });

  it('keeps one pod while the activator holds requests', () => {
    const now = 100_000;
    const samples = [
      ...steady(now - 40_000, now - 1000, 0),
      { at: now, concurrency: 0, requests: 0, held: 0.001 },
    ];
    // held is a count; a fraction is what an average of one held request over a short interval looks like
    const result = decide({ now, replicas: 1, state: settled(now - 40_000), samples });
    expect(result.replicas).toBe(1);
  });

  it('wakes a function at zero when the activator holds a request', () => {
    const now = 100_000;
    const samples = [{ at: now, concurrency: 0, requests: 0, held: 3 }];
    const result = decide({ now, replicas: 0, state: settled(-Infinity), samples });
    expect(result.replicas).toBe(1);
    // Held requests are demand like those in flight: 3 over the window.
    expect(result.reason).toMatch(/^3 requests in flight over 60s/);
  });

  it('leaves an idle function at zero', () => {
    const result = decide({ replicas: 0, state: initialState(0, 0), samples: steady(40_000, 100_000, 0) });
    expect(result.replicas).toBe(0);
    expect(result.zeroRoute).toBe(true);
  });

  it('never goes below min-scale, nor above max-scale', () => {
    const now = 100_000;
    const fixed = { ...scaling, minScale: 3, maxScale: 3 };
    expect(decide({ now, scaling: fixed, replicas: 3, state: settled(-1e9) }).replicas).toBe(3);
    const busy = decide({ now, scaling: fixed, replicas: 3, samples: steady(now - 60_000, now, 1000) });
    expect(busy.replicas).toBe(3);
    expect(busy.reason).toMatch(/max-scale 3$/);
  });
});

/** Runs the decider once a second over a load trace, applying each decision at once. */
function simulate(loads: readonly number[], spec: FunctionScaling = scaling, start = 1) {
  let replicas = start;
  let state = initialState(0, replicas);
  const samples: ScaleSample[] = [];
  const decided: number[] = [];
  loads.forEach((load, i) => {
    const now = (i + 1) * 1000;
    samples.push({ at: now, concurrency: load, requests: load > 0 ? 1 : 0, held: 0 });
    const decision = decideScale({
      scaling: spec,
      samples,
      replicas,
      readyReplicas: replicas,
      now,
      state,
      zeroRouteReady: true,
    });
    replicas = decision.replicas;
    state = decision.state;
    decided.push(replicas);
  });
  return decided;
}

const scalingArbitrary = fc
  .record({
    minScale: fc.integer({ min: 0, max: 5 }),
    extra: fc.integer({ min: 0, max: 10 }),
    targetConcurrency: fc.integer({ min: 1, max: 200 }),
    scaleToZeroAfterMs: fc.integer({ min: 1, max: 120 }).map((s) => s * 1000),
    stableWindowMs: fc.integer({ min: 6, max: 120 }).map((s) => s * 1000),
  })
  .map(({ minScale, extra, ...rest }) => ({ minScale, maxScale: Math.max(1, minScale + extra), ...rest }));

const loadArbitrary = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 2000, noNaN: true }));

describe('decideScale properties', () => {
  it('always stays within [min-scale, max-scale]', () => {
    fc.assert(
      fc.property(scalingArbitrary, fc.array(loadArbitrary, { maxLength: 200 }), (spec, loads) => {
        for (const replicas of simulate(loads, spec, spec.minScale))
          if (replicas < spec.minScale || replicas > spec.maxScale) return false;
        return true;
      }),
      fuzzParameters(),
    );
  });

  it('does not flap under steady load: once settled, the replicas stay put', () => {
    fc.assert(
      fc.property(scalingArbitrary, fc.double({ min: 0.01, max: 2000, noNaN: true }), (spec, load) => {
        // Three stable windows of the same load: the last window must hold one value.
        const seconds = (3 * spec.stableWindowMs) / 1000;
        const decided = simulate(Array<number>(seconds).fill(load), spec);
        const lastWindow = decided.slice(-spec.stableWindowMs / 1000);
        return lastWindow.every((replicas) => replicas === lastWindow[0]);
      }),
      fuzzParameters(),
    );
  });

  it('never asks for fewer pods for more load, all else equal', () => {
    const sampleArbitrary = fc.array(fc.tuple(loadArbitrary, loadArbitrary), {
      minLength: 1,
      maxLength: 130,
    });
    fc.assert(
      fc.property(
        scalingArbitrary,
        sampleArbitrary,
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 200 }),
        fc.boolean(),
        (spec, pairs, replicas, sinceSeconds, panicking) => {
          const now = pairs.length * 1000;
          const state: ScalerState = {
            observingSince: now - sinceSeconds * 1000,
            lastActiveAt: now - sinceSeconds * 500,
            ...(panicking ? { panicAt: now - 2000, panicReplicas: replicas } : {}),
          };
          const lower = pairs.map(([a, b], i) => ({
            at: (i + 1) * 1000,
            concurrency: Math.min(a, b),
            requests: 0,
            held: 0,
          }));
          const higher = pairs.map(([a, b], i) => ({
            at: (i + 1) * 1000,
            concurrency: Math.max(a, b),
            requests: 0,
            held: 0,
          }));
          const common = {
            scaling: spec,
            replicas,
            readyReplicas: replicas,
            now,
            state,
            zeroRouteReady: true,
          };
          return (
            decideScale({ ...common, samples: higher }).replicas >=
            decideScale({ ...common, samples: lower }).replicas
          );
        },
      ),
      fuzzParameters(),
    );
  });
});
