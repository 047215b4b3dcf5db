import {
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Lease,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError, isConflict, isNotFound, type Kube } from '../kube/client.js';
import {
  checkLeaseTiming,
  decideLease,
  LEASE_TIMING,
  nextAttemptInMs,
  observeLease,
  withinRenewDeadline,
  type LeaseObservation,
  type LeaseRecord,
  type LeaseTiming,
} from './lease.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  timing?: LeaseTiming;
  /** The clock, in ms since the epoch (default Date.now); injected so tests can jump it as a freeze would. */
  now?: () => number;
}

export interface LeadershipCallbacks {
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/**
 * Campaigns for a coordination.k8s.io/v1 Lease until stopped, as client-go's leaderelection does. Writes are
 * guarded by the Lease's resourceVersion, so two candidates racing for it cannot both win. Every API call is
 * abandoned after `callTimeoutMs`. A candidate counts a lease's expiry from when it saw the record change,
 * by its own clock. The leader leads only while its last successful renewal started less than
 * `renewDeadlineMs` ago: {@link isLeader} reads the clock each time, so a replica that was frozen and resumes
 * knows it no longer leads before any timer has fired, and a timer at the deadline calls onStoppedLeading.
 */
export class LeaderElector {
  private leading = false;
  /** Our clock, read before the first request of the last acquire-or-renew attempt that succeeded. */
  private renewStartedAt: number | undefined;
  private observed: LeaseObservation | undefined;
  private attemptTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private stopped = false;
  private readonly timing: LeaseTiming;
  private readonly now: () => number;

  constructor(
    private readonly kube: Kube,
    private readonly options: LeaderElectionOptions,
    private readonly logger: Logger,
    private readonly callbacks: LeadershipCallbacks,
  ) {
    this.timing = checkLeaseTiming(options.timing ?? LEASE_TIMING);
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether this replica may write now: it won the lease and its last renewal started less than the renew
   * deadline ago. Ask it right before every write; it reads the clock, never only a flag.
   */
  get isLeader(): boolean {
    return (
      this.leading &&
      this.renewStartedAt !== undefined &&
      withinRenewDeadline(this.renewStartedAt, this.now(), this.timing)
    );
  }

  /** Milliseconds since our last successful renewal started; undefined before the first one. For logs. */
  get sinceRenewalMs(): number | undefined {
    return this.renewStartedAt === undefined ? undefined : this.now() - this.renewStartedAt;
  }

  start(): void {
    this.runAttempt();
  }

  /** Stops campaigning; a holder releases the lease so the next one need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.attemptTimer);
    // An attempt under way ends within two call timeouts; it could still be writing the lease.
    await this.attempt;
    const held = this.leading || this.observed?.record.holderIdentity === this.options.identity;
    this.setLeading(false);
    if (held) await this.release();
  }

  private runAttempt(): void {
    this.attempt = this.tryAcquireOrRenew()
      .catch((error: unknown) => {
        this.logger.warn({ err: describeApiError(error), lease: this.options.name }, 'lease update failed');
        return this.timing.retryPeriodMs;
      })
      .then((delayMs) => {
        this.watchDeadline();
        if (!this.stopped) this.attemptTimer = setTimeout(() => this.runAttempt(), delayMs);
      })
      .finally(() => (this.attempt = undefined));
  }

  /** One acquire-or-renew attempt; resolves with the delay until the next. */
  private async tryAcquireOrRenew(): Promise<number> {
    // A replica that resumes after a freeze steps down here, before its first request.
    this.watchDeadline();
    const { name, namespace, identity } = this.options;
    const startedAt = this.now();
    const lease = await this.read();
    // Seen after the read returned: no earlier than the write that produced this record.
    const seenAt = new Date(this.now());
    this.observed = observeLease(this.observed, lease === undefined ? undefined : recordOf(lease), seenAt);
    const decision = decideLease(this.observed, identity, seenAt, this.timing);
    if (decision.action === 'wait') {
      if (this.leading) {
        this.logger.warn({ lease: name, holder: decision.holder }, 'the controller lease has another holder');
        this.setLeading(false);
      }
      return nextAttemptInMs(decision.action, this.observed, seenAt, this.timing);
    }
    const spec = specOf(
      decision.record,
      decision.action === 'create' || decision.acquired ? seenAt : undefined,
      lease,
    );
    let written: V1Lease;
    try {
      written =
        decision.action === 'create'
          ? await this.call('create', (options) =>
              this.kube.coordination.createNamespacedLease(
                { namespace, body: { metadata: { name, namespace }, spec } },
                options,
              ),
            )
          : await this.call('replace', (options) =>
              this.kube.coordination.replaceNamespacedLease(
                { name, namespace, body: { ...lease!, spec } },
                options,
              ),
            );
    } catch (error) {
      // Someone else wrote the lease first: they won this round.
      if (isConflict(error) || statusIs(error, 409)) return this.timing.retryPeriodMs;
      throw error;
    }
    this.observed = observeLease(this.observed, recordOf(written), new Date(this.now()));
    this.renewed(startedAt, decision.record.leaseTransitions);
    return this.timing.retryPeriodMs;
  }

  private renewed(startedAt: number, transitions: number | undefined): void {
    this.renewStartedAt = startedAt;
    // An attempt that outlived the deadline (the process froze mid-request) wins nothing: leading would
    // already be over.
    if (!this.stopped && !this.leading && withinRenewDeadline(startedAt, this.now(), this.timing)) {
      this.logger.info(
        { lease: this.options.name, identity: this.options.identity, transitions },
        'became the leader',
      );
      this.setLeading(true);
    }
  }

  /** Steps down once the renew deadline has passed; until then, keeps a timer at the deadline. */
  private watchDeadline(): void {
    clearTimeout(this.deadlineTimer);
    if (!this.leading || this.renewStartedAt === undefined) return;
    const now = this.now();
    const sinceRenewalMs = now - this.renewStartedAt;
    if (withinRenewDeadline(this.renewStartedAt, now, this.timing)) {
      this.deadlineTimer = setTimeout(
        () => this.watchDeadline(),
        this.timing.renewDeadlineMs - sinceRenewalMs,
      );
      this.deadlineTimer.unref();
      return;
    }
    this.logger.error(
      { lease: this.options.name, sinceRenewalMs, renewDeadlineMs: this.timing.renewDeadlineMs },
      'could not renew the controller lease in time; stepping down',
    );
    this.setLeading(false);
  }

  private async read(): Promise<V1Lease | undefined> {
    const { name, namespace } = this.options;
    try {
      return await this.call('read', (options) =>
        this.kube.coordination.readNamespacedLease({ name, namespace }, options),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async release(): Promise<void> {
    const { name, namespace, identity } = this.options;
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== identity) return;
      await this.call('release', (options) =>
        this.kube.coordination.replaceNamespacedLease(
          { name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: '' } } },
          options,
        ),
      );
    } catch (error) {
      this.logger.warn({ err: describeApiError(error) }, 'cannot release the controller lease');
    }
  }

  private call<T>(verb: string, request: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
    const { namespace, name } = this.options;
    return callWithTimeout(request, this.timing.callTimeoutMs, `${verb} of lease ${namespace}/${name}`);
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (!leading) clearTimeout(this.deadlineTimer);
    if (leading) this.callbacks.onStartedLeading();
    else this.callbacks.onStoppedLeading();
  }
}

/**
 * Runs one client-node API call, abandoned after `timeoutMs`: the request is aborted through the per-call
 * options (a middleware gives it an AbortSignal, which client-node passes to fetch), and the caller is
 * answered at the deadline whatever the call does, so a hung call cannot block the election loop. A late
 * result is dropped and a late failure is swallowed, never an unhandled rejection.
 */
export async function callWithTimeout<T>(
  request: (options: ConfigurationOptions) => Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} timed out after ${timeoutMs} ms`));
      abort.abort();
    }, timeoutMs);
  });
  const call = Promise.resolve().then(() => request(abortOptions(abort.signal)));
  try {
    // The race subscribes to both: a late failure of the call is handled there, never unhandled.
    return await Promise.race([call, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Per-call client-node options whose middleware sets the request's AbortSignal; appended, so the client's
 * own middleware stays (the way client-node's own setHeaderOptions adds a header).
 */
export function abortOptions(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
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
  if (lease.metadata?.resourceVersion !== undefined) record.resourceVersion = lease.metadata.resourceVersion;
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
