/**
 * Leader election on a coordination.k8s.io/v1 Lease, decided by a pure function as client-go's leaderelection
 * does: renew our own lease, take one that is free or expired, otherwise wait.
 * https://kubernetes.io/docs/concepts/architecture/leases/#leader-election
 */
export interface LeaseRecord {
  holderIdentity?: string;
  renewTime?: Date;
  leaseDurationSeconds?: number;
  leaseTransitions?: number;
}

export interface LeaseTiming {
  /** How long a lease holds without renewal; a new leader takes over at most this long after a crash. */
  leaseDurationSeconds: number;
  /** How often candidates retry and the leader renews. */
  retryPeriodMs: number;
}

/** Takeover within 10 s + one 2 s retry of a leader dying: inside the 15 s the controller promises. */
export const LEASE_TIMING: LeaseTiming = { leaseDurationSeconds: 10, retryPeriodMs: 2_000 };

export type LeaseDecision =
  | { action: 'create'; record: LeaseRecord }
  | { action: 'update'; record: LeaseRecord; acquired: boolean }
  | { action: 'wait'; holder: string };

/** What `identity` should do with the lease as it is now. */
export function decideLease(
  current: LeaseRecord | undefined,
  identity: string,
  now: Date,
  timing: LeaseTiming = LEASE_TIMING,
): LeaseDecision {
  const mine = {
    holderIdentity: identity,
    renewTime: now,
    leaseDurationSeconds: timing.leaseDurationSeconds,
  };
  if (current === undefined) return { action: 'create', record: { ...mine, leaseTransitions: 0 } };
  const transitions = current.leaseTransitions ?? 0;
  if (current.holderIdentity === identity) {
    return { action: 'update', record: { ...mine, leaseTransitions: transitions }, acquired: false };
  }
  if (
    current.holderIdentity === undefined ||
    current.holderIdentity === '' ||
    isExpired(current, now, timing)
  ) {
    return { action: 'update', record: { ...mine, leaseTransitions: transitions + 1 }, acquired: true };
  }
  return { action: 'wait', holder: current.holderIdentity };
}

/** A lease not renewed within its own duration (or ours, when it states none) is free to take. */
export function isExpired(lease: LeaseRecord, now: Date, timing: LeaseTiming = LEASE_TIMING): boolean {
  if (lease.renewTime === undefined) return true;
  const durationMs = (lease.leaseDurationSeconds ?? timing.leaseDurationSeconds) * 1000;
  return lease.renewTime.getTime() + durationMs <= now.getTime();
}
