import { describe, expect, it } from '@jest/globals';
import { meanConcurrency } from '../../contract/stats.js';
import { ConcurrencyMeter } from './concurrency.js';

describe('ConcurrencyMeter', () => {
  it('integrates requests in flight over time', () => {
    const meter = new ConcurrencyMeter(0);
    const before = meter.read(0);
    meter.started(0);
    meter.started(500);
    meter.finished(1000);
    // 1 request for 0.5 s, 2 for 0.5 s, then 1 for 1 s: 2.5 request-seconds over 2 s.
    const after = meter.read(2000);
    expect(after).toEqual({ at: 2, inFlight: 1, concurrencySeconds: 2.5, requests: 1 });
    expect(meanConcurrency(before, after)).toBe(1.25);
  });

  it('ignores a clock that reads earlier than before', () => {
    const meter = new ConcurrencyMeter(1000);
    meter.started(1000);
    expect(meter.read(900)).toEqual({ at: 1, inFlight: 1, concurrencySeconds: 0, requests: 0 });
  });
});

describe('meanConcurrency', () => {
  const read = (at: number, concurrencySeconds: number, requests: number) => ({
    at,
    inFlight: 0,
    concurrencySeconds,
    requests,
  });

  it('is undefined across a restart or without time passing', () => {
    expect(meanConcurrency(read(10, 5, 5), read(2, 1, 1))).toBeUndefined();
    expect(meanConcurrency(read(10, 5, 5), read(10, 5, 5))).toBeUndefined();
  });
});
