import { describe, expect, it } from '@jest/globals';
import { FunctionObservations } from './observations.js';

const stats = (at: number, concurrencySeconds: number, requests: number, inFlight = 0) => ({
  at,
  inFlight,
  concurrencySeconds,
  requests,
});

describe('FunctionObservations', () => {
  it('sums the mean concurrency of the pods read, extrapolated to the ready pods', () => {
    const observed = new FunctionObservations();
    observed.record(
      1000,
      4,
      [
        { uid: 'a', stats: stats(1, 0, 0, 3) },
        { uid: 'b', stats: stats(5, 10, 10, 1) },
      ],
      0,
      0,
      60_000,
    );
    const sample = observed.record(
      2000,
      4,
      [
        { uid: 'a', stats: stats(2, 2, 5) }, // 2 in flight on average
        { uid: 'b', stats: stats(6, 14, 20) }, // 4
      ],
      1,
      2,
      60_000,
    );
    // (2 + 4) read on 2 of 4 ready pods; 15 answered on those 2, and 2 reached the activator.
    expect(sample).toEqual({ at: 2000, concurrency: 12, requests: 32, held: 1 });
  });

  it('starts a pod read for the first time from its in-flight count, and forgets pods gone', () => {
    const observed = new FunctionObservations();
    expect(observed.record(1000, 1, [{ uid: 'a', stats: stats(1, 0, 0, 3) }], 0, 0, 60_000).concurrency).toBe(
      3,
    );
    observed.record(2000, 0, [], 0, 0, 60_000);
    // Read again after it was gone: a fresh start, not a difference to the old read.
    expect(
      observed.record(3000, 1, [{ uid: 'a', stats: stats(3, 100, 9, 2) }], 0, 0, 60_000).concurrency,
    ).toBe(2);
  });

  it('keeps the samples of the window only', () => {
    const observed = new FunctionObservations();
    for (let at = 1000; at <= 10_000; at += 1000) observed.record(at, 0, [], 0, 0, 3000);
    expect(observed.samples.map((s) => s.at)).toEqual([8000, 9000, 10_000]);
  });
  it("takes an event function's backlog as its demand and its deliveries as its activity", () => {
    const observed = new FunctionObservations();
    expect(observed.recordBacklog(1000, { pending: 40, ackPending: 8, delivered: 100 }, 60_000)).toEqual({
      at: 1000,
      concurrency: 48,
      requests: 0,
      held: 0,
    });
    expect(observed.recordBacklog(2000, { pending: 0, ackPending: 2, delivered: 146 }, 60_000)).toEqual({
      at: 2000,
      concurrency: 2,
      requests: 46,
      held: 0,
    });
    // The consumer made again: its deliveries count from nothing, never backwards.
    expect(observed.recordBacklog(3000, { pending: 0, ackPending: 0, delivered: 3 }, 60_000).requests).toBe(
      0,
    );
    expect(observed.recordBacklog(3500, { pending: 0, ackPending: 0, delivered: 3 }, 2000).requests).toBe(0);
    expect(observed.samples.map((s) => s.at)).toEqual([2000, 3000, 3500]);
  });
});
