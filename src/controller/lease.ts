/**
 * Leader election on a coordination.k8s.io/v1 Lease, decided by pure functions as client-go's leaderelection
 * does: renew our own lease, take one that is free or expired, otherwise wait. Expiry is measured by the
 * candidate's own clock from when it last saw the record change, never from the holder's `renewTime`, so
 * clock skew between replicas cannot shorten (or stretch) a lease.
 * https://kubernetes.io/docs/concepts/architecture/leases/#leader-election
 * https://github.com/kubernetes/client-go/blob/master/tools/leaderelection/leaderelection.go
 */
export interface LeaseRecord {
  holderIdentity?: string;
  renewTime?: Date;
  leaseDurationSeconds?: number;
  leaseTransitions?: number;
  /** The object's metadata.resourceVersion: any write to the Lease changes it. */
  resourceVersion?: string;
}

/** A record as one candidate saw it, and when (by its own clock) it first saw the record in this state. */
export interface LeaseObservation {
  record: LeaseRecord;
  observedAt: Date;
}

export interface LeaseTiming {
  /** How long a lease holds without renewal: candidates wait this long after they last saw its record change. */
  leaseDurationSeconds: number;
  /**
   * How long after the start of its last successful renewal a leader still leads. Shorter than the lease
   * duration, so a leader that cannot renew has stopped writing before anyone else may take over.
   */
  renewDeadlineMs: number;
  /** How often candidates retry and the leader renews. */
  retryPeriodMs: number;
  /** Every Lease API call (read, create, replace, release) is abandoned after this long. */
  callTimeoutMs: number;
}

/**
 * A leader frozen (or cut off) at time F last had a renewal land at F or before. A candidate sees it within
 * one retry (2 s), counts 10 s from then and retries right at that moment ({@link nextAttemptInMs}): a
 * takeover within about 12 s of F, inside the 15 s the controller promises. The old leader stops at 7 s
 * after the start of that renewal, leaving 3 s for a write already on the wire and for clocks that run at
 * slightly different rates. A call times out after 2 s, so an attempt (a read and a write) ends within 4 s
 * and a second one starts before the 7 s deadline. client-go's defaults are 15 s / 10 s / 2 s.
 */
export const LEASE_TIMING: LeaseTiming = {
  leaseDurationSeconds: 10,
  renewDeadlineMs: 7_000,
  retryPeriodMs: 2_000,
  callTimeoutMs: 2_000,
};

/** Throws unless call timeout < renew deadline < lease duration and the retry period fits in the deadline. */
export function checkLeaseTiming(timing: LeaseTiming): LeaseTiming {
  const { leaseDurationSeconds, renewDeadlineMs, retryPeriodMs, callTimeoutMs } = timing;
  const problems = [
    renewDeadlineMs < leaseDurationSeconds * 1000
      ? undefined
      : 'renew deadline must be below the lease duration',
    retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs
      ? undefined
      : 'retry period must be positive and below the renew deadline',
    callTimeoutMs > 0 && callTimeoutMs < renewDeadlineMs
      ? undefined
      : 'call timeout must be positive and below the renew deadline',
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0)
    throw new Error(`invalid lease timing ${JSON.stringify(timing)}: ${problems.join('; ')}`);
  return timing;
}

/**
 * The observation after reading `record` at `now`: the previous one when the record has not changed (so
 * its age keeps growing), else the record seen now. A Lease that does not exist is no observation.
 */
export function observeLease(
  previous: LeaseObservation | undefined,
  record: LeaseRecord | undefined,
  now: Date,
): LeaseObservation | undefined {
  if (record === undefined) return undefined;
  if (previous !== undefined && sameRecord(previous.record, record)) return previous;
  return { record, observedAt: now };
}

/** Whether two reads show the same record: same holder, renewal, transitions and resourceVersion. */
export function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.renewTime?.getTime() === b.renewTime?.getTime() &&
    a.leaseTransitions === b.leaseTransitions &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.resourceVersion === b.resourceVersion
  );
}

export type LeaseDecision =
  | { action: 'create'; record: LeaseRecord }
  | { action: 'update'; record: LeaseRecord; acquired: boolean }
  | { action: 'wait'; holder: string };

/** What `identity` should do at `now` with the lease as it last observed it (undefined: there is none). */
export function decideLease(
  observed: LeaseObservation | undefined,
  identity: string,
  now: Date,
  timing: LeaseTiming = LEASE_TIMING,
): LeaseDecision {
  const mine = {
    holderIdentity: identity,
    renewTime: now,
    leaseDurationSeconds: timing.leaseDurationSeconds,
  };
  if (observed === undefined) return { action: 'create', record: { ...mine, leaseTransitions: 0 } };
  const current = observed.record;
  const transitions = current.leaseTransitions ?? 0;
  if (current.holderIdentity === identity) {
    return { action: 'update', record: { ...mine, leaseTransitions: transitions }, acquired: false };
  }
  if (
    current.holderIdentity === undefined ||
    current.holderIdentity === '' ||
    isExpired(observed, now, timing)
  ) {
    return { action: 'update', record: { ...mine, leaseTransitions: transitions + 1 }, acquired: true };
  }
  return { action: 'wait', holder: current.holderIdentity };
}

/**
 * A lease whose record has not changed for its own duration (or ours, when it states none) since this
 * candidate first saw it is free to take. The holder's `renewTime` is never compared with our clock.
 */
export function isExpired(
  observed: LeaseObservation,
  now: Date,
  timing: LeaseTiming = LEASE_TIMING,
): boolean {
  return observed.observedAt.getTime() + leaseDurationMs(observed.record, timing) <= now.getTime();
}

/**
 * Whether a leader whose last successful renewal started at `renewStartedAt` (its clock, read before the
 * renewal's first request) still leads at `now`: only strictly before the renew deadline.
 */
export function withinRenewDeadline(
  renewStartedAt: number,
  now: number,
  timing: LeaseTiming = LEASE_TIMING,
): boolean {
  return now - renewStartedAt < timing.renewDeadlineMs;
}

/**
 * How long to wait before the next attempt: one retry period, except that a candidate waiting on a held
 * lease retries as soon as that lease would expire if it is not renewed meanwhile.
 */
export function nextAttemptInMs(
  decision: LeaseDecision['action'],
  observed: LeaseObservation | undefined,
  now: Date,
  timing: LeaseTiming = LEASE_TIMING,
): number {
  if (decision !== 'wait' || observed === undefined) return timing.retryPeriodMs;
  const untilExpiry =
    observed.observedAt.getTime() + leaseDurationMs(observed.record, timing) - now.getTime();
  return Math.min(timing.retryPeriodMs, Math.max(0, untilExpiry));
}

/** The record's own duration; ours when it states none (or nonsense). */
function leaseDurationMs(record: LeaseRecord, timing: LeaseTiming): number {
  const seconds = record.leaseDurationSeconds;
  return (seconds !== undefined && seconds > 0 ? seconds : timing.leaseDurationSeconds) * 1000;
}
