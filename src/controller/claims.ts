import type { V1Deployment } from '@kubernetes/client-node';
import { claimOfDeployment, claimSubject, type RecordedClaim } from '../routing/claim.js';
import type { RouteTable } from '../routing/table.js';

/**
 * Feeds the route table from Deployment events and remembers, per function, whether its claim is recorded
 * on the Deployment. A function that got in without the mutating webhook (it was not installed yet) has no
 * current record: it is dated the moment the controller first saw it in that shape, and the reconcile
 * writes that date, so the order survives a restart.
 */
export class ClaimTracker {
  private readonly firstSeen = new Map<string, { subject: string; at: number }>();
  private readonly records = new Map<string, RecordedClaim>();

  constructor(
    readonly table: RouteTable,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the Deployment's claim (undefined: deleted). Returns the other keys to reconcile again. */
  update(key: string, deployment: V1Deployment | undefined): string[] {
    const seen = this.firstSeen.get(key);
    const read = deployment === undefined ? undefined : claimOfDeployment(deployment, seen?.at ?? this.now());
    if (read === undefined) {
      this.firstSeen.delete(key);
      this.records.delete(key);
      return this.table.update(key, undefined);
    }
    const subject = claimSubject(read.claim.spec);
    if (read.recorded.state === 'current') this.firstSeen.delete(key);
    else if (seen?.subject !== subject) {
      // First sight of this name and route without a record: it is claimed now, not when first seen before.
      const at = this.now();
      this.firstSeen.set(key, { subject, at });
      if (read.recorded.state === 'stale') read.claim.claimedAt = Math.max(read.claim.claimedAt, at);
    }
    this.records.set(key, read.recorded);
    return this.table.update(key, read.claim);
  }

  /** Whether the Deployment's claim record is current, missing or stale, as last seen. */
  recorded(key: string): RecordedClaim | undefined {
    return this.records.get(key);
  }
}
