import { describe, expect, it } from '@jest/globals';
import {
  checkLeaseTiming,
  decideLease,
  isExpired,
  LEASE_TIMING,
  nextAttemptInMs,
  observeLease,
  withinRenewDeadline,
  type LeaseObservation,
  type LeaseRecord,
} from './lease.js';

const timing = { leaseDurationSeconds: 10, renewDeadlineMs: 7000, retryPeriodMs: 2000, callTimeoutMs: 2000 };
const now = new Date('2026-11-26T12:00:00.000Z');
const secondsAgo = (s: number, ms = 0) => new Date(now.getTime() - s * 1000 - ms);
const seen = (record: LeaseRecord, observedAt: Date): LeaseObservation => ({ record, observedAt });

describe('decideLease', () => {
  it('creates the lease when there is none', () => {
    expect(decideLease(undefined, 'pod-a', now, timing)).toEqual({
      action: 'create',
      record: { holderIdentity: 'pod-a', renewTime: now, leaseDurationSeconds: 10, leaseTransitions: 0 },
    });
  });

  it('renews its own lease without counting a transition, however old its observation', () => {
    const lease = {
      holderIdentity: 'pod-a',
      renewTime: secondsAgo(2),
      leaseDurationSeconds: 10,
      leaseTransitions: 3,
    };
    expect(decideLease(seen(lease, secondsAgo(60)), 'pod-a', now, timing)).toEqual({
      action: 'update',
      acquired: false,
      record: { holderIdentity: 'pod-a', renewTime: now, leaseDurationSeconds: 10, leaseTransitions: 3 },
    });
  });

  it('takes over a record it has seen unchanged for exactly a lease duration, counting a transition', () => {
    const lease = {
      holderIdentity: 'pod-b',
      renewTime: secondsAgo(10),
      leaseDurationSeconds: 10,
      leaseTransitions: 1,
    };
    expect(decideLease(seen(lease, secondsAgo(10)), 'pod-a', now, timing)).toEqual({
      action: 'update',
      acquired: true,
      record: { holderIdentity: 'pod-a', renewTime: now, leaseDurationSeconds: 10, leaseTransitions: 2 },
    });
  });

  // The holder's renewTime is its clock, not ours: only when we saw the record change counts.
  it.each([
    ['seen changing 9.999 s ago', secondsAgo(0), secondsAgo(9, 999), 'wait'],
    [
      'seen changing 1 s ago, though its renewTime is an hour old (holder clock behind)',
      secondsAgo(3600),
      secondsAgo(1),
      'wait',
    ],
    [
      'first seen just now, though its renewTime is an hour old (a candidate that just started)',
      secondsAgo(3600),
      now,
      'wait',
    ],
    [
      'unchanged for 10 s, though its renewTime is in our future (holder clock ahead)',
      new Date(now.getTime() + 60_000),
      secondsAgo(10),
      'update',
    ],
    ['unchanged for 10 s, renewTime 10 s old', secondsAgo(10), secondsAgo(10), 'update'],
  ])('a record held by another %s: %s', (_, renewTime, observedAt, action) => {
    const lease = { holderIdentity: 'pod-b', renewTime, leaseDurationSeconds: 10 };
    expect(decideLease(seen(lease, observedAt), 'pod-a', now, timing).action).toBe(action);
  });

  it('waits on the holder while its lease is valid, naming it', () => {
    const lease = { holderIdentity: 'pod-b', renewTime: now, leaseDurationSeconds: 10 };
    expect(decideLease(seen(lease, secondsAgo(5)), 'pod-a', now, timing)).toEqual({
      action: 'wait',
      holder: 'pod-b',
    });
  });

  it.each([
    ['released by its holder', { holderIdentity: '', renewTime: now }],
    ['without a holder', { renewTime: now }],
  ])('takes a lease %s at once', (_, lease) => {
    expect(decideLease(seen(lease, now), 'pod-a', now, timing)).toMatchObject({
      action: 'update',
      acquired: true,
    });
  });
});

describe('isExpired', () => {
  it.each([
    [{ leaseDurationSeconds: 10 }, secondsAgo(9, 999), false],
    [{ leaseDurationSeconds: 10 }, secondsAgo(10), true],
    [{ leaseDurationSeconds: 15 }, secondsAgo(14), false],
    [{ leaseDurationSeconds: 15 }, secondsAgo(15), true],
    // No duration (or nonsense) in the record: ours.
    [{}, secondsAgo(9), false],
    [{}, secondsAgo(10), true],
    [{ leaseDurationSeconds: 0 }, secondsAgo(9), false],
    // renewTime plays no part.
    [{ leaseDurationSeconds: 10, renewTime: secondsAgo(3600) }, secondsAgo(1), false],
  ])('%j seen unchanged since %s is expired: %s', (record, observedAt, expected) => {
    expect(isExpired(seen(record, observedAt), now, timing)).toBe(expected);
  });
});

describe('observeLease', () => {
  const record = {
    holderIdentity: 'pod-b',
    renewTime: secondsAgo(30),
    leaseDurationSeconds: 10,
    leaseTransitions: 2,
    resourceVersion: '41',
  };
  const before = seen(record, secondsAgo(8));

  it('is no observation when the lease does not exist', () => {
    expect(observeLease(before, undefined, now)).toBeUndefined();
  });

  it('records the first read at our clock', () => {
    expect(observeLease(undefined, record, now)).toEqual({ record, observedAt: now });
  });

  it('keeps the earlier observation while the record is unchanged, so its age grows', () => {
    expect(observeLease(before, { ...record, renewTime: new Date(record.renewTime) }, now)).toBe(before);
  });

  it.each([
    ['holder', { holderIdentity: 'pod-c' }],
    ['renewTime', { renewTime: secondsAgo(1) }],
    ['transitions', { leaseTransitions: 3 }],
    ['resourceVersion', { resourceVersion: '42' }],
    ['duration', { leaseDurationSeconds: 15 }],
  ])('starts a new observation when the %s changes', (_, change) => {
    const changed = { ...record, ...change };
    expect(observeLease(before, changed, now)).toEqual({ record: changed, observedAt: now });
  });

  it('a record read unchanged every 2 s for a lease duration becomes acquirable; one renewed every 2 s never does', () => {
    const reads = [0, 2, 4, 6, 8, 10].map((s) => new Date(now.getTime() + s * 1000));
    let frozen: LeaseObservation | undefined;
    let renewing: LeaseObservation | undefined;
    const decisions = reads.map((at, i) => {
      frozen = observeLease(frozen, record, at);
      renewing = observeLease(renewing, { ...record, resourceVersion: String(100 + i), renewTime: at }, at);
      return [
        decideLease(frozen, 'pod-a', at, timing).action,
        decideLease(renewing, 'pod-a', at, timing).action,
      ];
    });
    expect(decisions.map(([f]) => f)).toEqual(['wait', 'wait', 'wait', 'wait', 'wait', 'update']);
    expect(decisions.every(([, r]) => r === 'wait')).toBe(true);
  });
});

describe('withinRenewDeadline', () => {
  it.each([
    [0, true],
    [6_999, true],
    [7_000, false],
    [20_000, false],
  ])('%i ms after the renewal started, still leading: %s', (elapsed, expected) => {
    expect(withinRenewDeadline(1_000_000, 1_000_000 + elapsed, timing)).toBe(expected);
  });
});

describe('nextAttemptInMs', () => {
  const held = { holderIdentity: 'pod-b', leaseDurationSeconds: 10 };
  it.each([
    ['a leader renewing', 'update' as const, seen(held, secondsAgo(1)), 2000],
    ['a candidate whose lease was just created', 'create' as const, undefined, 2000],
    ['a candidate far from expiry', 'wait' as const, seen(held, secondsAgo(1)), 2000],
    ['a candidate 1.5 s from expiry', 'wait' as const, seen(held, secondsAgo(8, 500)), 1500],
    ['a candidate 1 ms from expiry', 'wait' as const, seen(held, secondsAgo(9, 999)), 1],
  ])('%s retries in %s ms', (_, action, observed, expected) => {
    expect(nextAttemptInMs(action, observed, now, timing)).toBe(expected);
  });
});

describe('checkLeaseTiming', () => {
  it('accepts the defaults', () => {
    expect(checkLeaseTiming(LEASE_TIMING)).toBe(LEASE_TIMING);
  });

  it.each([
    [{ ...timing, renewDeadlineMs: 10_000 }, 'renew deadline must be below the lease duration'],
    [{ ...timing, retryPeriodMs: 7_000 }, 'retry period must be positive and below the renew deadline'],
    [{ ...timing, callTimeoutMs: 0 }, 'call timeout must be positive and below the renew deadline'],
  ])('refuses %j', (bad, message) => {
    expect(() => checkLeaseTiming(bad)).toThrow(message);
  });
});
