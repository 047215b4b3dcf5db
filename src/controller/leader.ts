import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError, isConflict, isNotFound, type Kube } from '../kube/client.js';
import { decideLease, LEASE_TIMING, type LeaseRecord, type LeaseTiming } from './lease.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  timing?: LeaseTiming;
}

export interface LeadershipCallbacks {
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/**
 * Campaigns for a coordination.k8s.io/v1 Lease until stopped. Writes are guarded by the Lease's
 * resourceVersion, so two candidates racing for it cannot both win. A leader that cannot renew within the
 * lease duration steps down before anyone else may take over.
 */
export class LeaderElector {
  private leading = false;
  private lastRenewal = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly timing: LeaseTiming;

  constructor(
    private readonly kube: Kube,
    private readonly options: LeaderElectionOptions,
    private readonly logger: Logger,
    private readonly callbacks: LeadershipCallbacks,
  ) {
    this.timing = options.timing ?? LEASE_TIMING;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so the next one need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity === this.options.identity) {
        await this.kube.coordination.replaceNamespacedLease({
          name: this.options.name,
          namespace: this.options.namespace,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: '' } },
        });
      }
    } catch (error) {
      this.logger.warn({ err: describeApiError(error) }, 'cannot release the controller lease');
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch (error) {
      this.logger.warn({ err: describeApiError(error), lease: this.options.name }, 'lease update failed');
    }
    // Step down before the lease can expire, so no other replica reconciles while we still think we lead.
    const renewDeadlineMs = this.timing.leaseDurationSeconds * 1000 - this.timing.retryPeriodMs;
    if (this.leading && Date.now() - this.lastRenewal > renewDeadlineMs) {
      this.logger.error(
        { lease: this.options.name },
        'could not renew the controller lease in time; stepping down',
      );
      this.setLeading(false);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.timing.retryPeriodMs);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { name, namespace, identity } = this.options;
    const lease = await this.read();
    const now = new Date();
    const decision = decideLease(
      lease === undefined ? undefined : recordOf(lease),
      identity,
      now,
      this.timing,
    );
    if (decision.action === 'wait') {
      if (this.leading) this.setLeading(false);
      return;
    }
    const spec = specOf(
      decision.record,
      decision.action === 'create' || decision.acquired ? now : undefined,
      lease,
    );
    try {
      if (decision.action === 'create') {
        await this.kube.coordination.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec },
        });
      } else {
        await this.kube.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease!, spec } });
      }
    } catch (error) {
      // Someone else wrote the lease first: they won this round.
      if (isConflict(error) || statusIs(error, 409)) return;
      throw error;
    }
    this.lastRenewal = Date.now();
    if (!this.leading) {
      this.logger.info(
        { lease: name, identity, transitions: decision.record.leaseTransitions },
        'became the leader',
      );
      this.setLeading(true);
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.kube.coordination.readNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (leading) this.callbacks.onStartedLeading();
    else this.callbacks.onStoppedLeading();
  }
}

const statusIs = (error: unknown, code: number): boolean => (error as { code?: number }).code === code;

// client-node hands MicroTime fields back as strings and must be given V1MicroTime to send six fraction digits.
function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const record: LeaseRecord = {};
  if (spec.holderIdentity !== undefined) record.holderIdentity = spec.holderIdentity;
  if (spec.renewTime !== undefined) record.renewTime = new Date(spec.renewTime);
  if (spec.leaseDurationSeconds !== undefined) record.leaseDurationSeconds = spec.leaseDurationSeconds;
  if (spec.leaseTransitions !== undefined) record.leaseTransitions = spec.leaseTransitions;
  return record;
}

function specOf(
  record: LeaseRecord,
  acquiredAt: Date | undefined,
  lease: V1Lease | undefined,
): V1Lease['spec'] {
  const acquireTime =
    acquiredAt ?? (lease?.spec?.acquireTime === undefined ? undefined : new Date(lease.spec.acquireTime));
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    renewTime: new V1MicroTime(record.renewTime ?? new Date()),
    ...(acquireTime === undefined ? {} : { acquireTime: new V1MicroTime(acquireTime) }),
  };
}
