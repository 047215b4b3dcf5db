import { describe, expect, it } from '@jest/globals';
import { EventInterest } from './interest.js';

function interest(filters: string[][]): {
  interest: EventInterest;
  reads: () => number;
  clock: { now: number };
} {
  let reads = 0;
  const clock = { now: 0 };
  return {
    clock,
    reads: () => reads,
    interest: new EventInterest({
      listFilters: async () => filters[Math.min(reads++, filters.length - 1)]!,
      now: () => clock.now,
    }),
  };
}

describe('EventInterest', () => {
  it('names the subjects no consumer filter takes', async () => {
    const { interest: i } = interest([['cloudbase.events.shop.orders.*']]);
    expect(
      await i.untaken(['cloudbase.events.shop.orders.created', 'cloudbase.events.bank.orders.created']),
    ).toEqual(['cloudbase.events.bank.orders.created']);
  });

  it('reads the filters again when they are 5 s old', async () => {
    const { interest: i, reads, clock } = interest([['cloudbase.events.a.x']]);
    await i.untaken(['cloudbase.events.a.x']);
    clock.now = 4_999;
    await i.untaken(['cloudbase.events.a.x']);
    expect(reads()).toBe(1);
    clock.now = 5_000;
    await i.untaken(['cloudbase.events.a.x']);
    expect(reads()).toBe(2);
  });

  it('reads again at once on a miss, so a consumer just made takes events', async () => {
    const { interest: i, reads, clock } = interest([[], ['cloudbase.events.a.x']]);
    expect(await i.untaken(['cloudbase.events.a.x'])).toEqual(['cloudbase.events.a.x']);
    clock.now = 250;
    expect(await i.untaken(['cloudbase.events.a.x'])).toEqual([]);
    expect(reads()).toBe(2);
  });

  it('reads no more than every 250 ms for misses', async () => {
    const { interest: i, reads, clock } = interest([[]]);
    await i.untaken(['cloudbase.events.a.x']);
    clock.now = 100;
    await i.untaken(['cloudbase.events.a.x']);
    expect(reads()).toBe(1);
  });
});
