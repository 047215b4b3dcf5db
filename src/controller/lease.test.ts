import { describe, expect, it } from '@jest/globals';
import { decideLease, isExpired } from './lease.js';

const timing = { leaseDurationSeconds: 10, retryPeriodMs: 2000 };
const now = new Date('2026-11-26T12:00:00.000Z');
const secondsAgo = (s: number, ms = 0) => new Date(now.getTime() - s * 1000 - ms);

describe('decideLease', () => {
  it('creates the lease when there is none', () => {
    expect(decideLease(undefined, 'pod-a', now, timing)).toEqual({
      action: 'create',
      record: { holderIdentity: 'pod-a', renewTime: now, leaseDurationSeconds: 10, leaseTransitions: 0 },
    });
  });

  it('renews its own lease without counting a transition', () => {
    const lease = {
      holderIdentity: 'pod-a',
      renewTime: secondsAgo(2),
      leaseDurationSeconds: 10,
      leaseTransitions: 3,
    };
    expect(decideLease(lease, 'pod-a', now, timing)).toEqual({
      action: 'update',
      acquired: false,
      record: { holderIdentity: 'pod-a', renewTime: now, leaseDurationSeconds: 10, leaseTransitions: 3 },
    });
  });

  it('waits while another holder renews in time', () => {
    const lease = { holderIdentity: 'pod-b', renewTime: secondsAgo(9, 999), leaseDurationSeconds: 10 };
    expect(decideLease(lease, 'pod-a', now, timing)).toEqual({ action: 'wait', holder: 'pod-b' });
  });

  it('takes over a lease that has just expired, counting a transition', () => {
    const lease = {
      holderIdentity: 'pod-b',
      renewTime: secondsAgo(10),
      leaseDurationSeconds: 10,
      leaseTransitions: 1,
    };
    expect(decideLease(lease, 'pod-a', now, timing)).toEqual({
      action: 'update',
      acquired: true,
      record: { holderIdentity: 'pod-a', renewTime: now, leaseDurationSeconds: 10, leaseTransitions: 2 },
    });
  });

  it('takes a lease released by its holder', () => {
    expect(decideLease({ holderIdentity: '', renewTime: now }, 'pod-a', now, timing)).toMatchObject({
      action: 'update',
      acquired: true,
    });
  });
});

describe('isExpired', () => {
  it.each([
    [{ renewTime: secondsAgo(9, 999), leaseDurationSeconds: 10 }, false],
    [{ renewTime: secondsAgo(10), leaseDurationSeconds: 10 }, true],
    [{ renewTime: secondsAgo(14), leaseDurationSeconds: 15 }, false],
    [{ renewTime: secondsAgo(11) }, true],
    [{}, true],
  ])('%j is expired: %s', (lease, expected) => {
    expect(isExpired(lease, now, timing)).toBe(expected);
  });
});
