import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  ApiException,
  CoordinationV1Api,
  HttpMethod,
  KubeConfig,
  RequestContext,
  type V1Lease,
} from '@kubernetes/client-node';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Kube } from '../kube/client.js';
import { abortOptions, callWithTimeout, LeaderElector } from './leader.js';

const timing = { leaseDurationSeconds: 10, renewDeadlineMs: 7000, retryPeriodMs: 2000, callTimeoutMs: 2000 };
const T0 = Date.parse('2026-11-26T12:00:00.000Z');

/** How one candidate reaches the store: hung (a partition or a frozen API server) or slow. */
interface Link {
  hung: boolean;
  latencyMs: number;
}

/**
 * A Lease in memory with the API server's guarantees the election relies on: create fails on an existing
 * lease, replace fails unless it carries the current resourceVersion (409), every write bumps it.
 */
class LeaseStore {
  lease: V1Lease | undefined;
  private version = 0;

  client(link: Link): Kube {
    const respond = async <T>(work: () => T): Promise<T> => {
      if (link.hung) return new Promise<T>(() => undefined);
      if (link.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, link.latencyMs));
      return work();
    };
    const coordination = {
      readNamespacedLease: () =>
        respond(() => {
          if (this.lease === undefined) throw new ApiException(404, 'not found', {}, {});
          return clone(this.lease);
        }),
      createNamespacedLease: ({ body }: { body: V1Lease }) =>
        respond(() => {
          if (this.lease !== undefined) throw new ApiException(409, 'already exists', {}, {});
          return this.store(body);
        }),
      replaceNamespacedLease: ({ body }: { body: V1Lease }) =>
        respond(() => {
          if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
            throw new ApiException(409, 'conflict', {}, {});
          }
          return this.store(body);
        }),
    };
    return { coordination } as unknown as Kube;
  }

  /** Another replica writes the lease (one this test does not run). */
  takenBy(identity: string, renewTime = new Date()): void {
    const spec = { leaseDurationSeconds: 10, ...this.lease?.spec, holderIdentity: identity, renewTime };
    this.store({ ...this.lease, spec });
  }

  get holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }

  private store(body: V1Lease): V1Lease {
    this.version += 1;
    this.lease = clone({ ...body, metadata: { ...body.metadata, resourceVersion: String(this.version) } });
    return clone(this.lease);
  }
}

// As over the wire: MicroTimes come back as strings.
const clone = (lease: V1Lease): V1Lease => JSON.parse(JSON.stringify(lease)) as V1Lease;

function capturingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = { write: (line: string) => messages.push((JSON.parse(line) as { msg: string }).msg) };
  return { logger: pino({ level: 'info' }, stream), messages };
}

function candidate(store: LeaseStore, identity: string, link: Link = { hung: false, latencyMs: 0 }) {
  const { logger, messages } = capturingLogger();
  const callbacks: string[] = [];
  const elector = new LeaderElector(
    store.client(link),
    { namespace: 'ns', name: 'lease', identity, timing, now: () => Date.now() },
    logger,
    { onStartedLeading: () => callbacks.push('started'), onStoppedLeading: () => callbacks.push('stopped') },
  );
  return { elector, callbacks, messages, link };
}

/** Moves the fake clock to `ms` after T0, firing every timer due on the way. */
const advanceTo = async (ms: number): Promise<void> => {
  await jest.advanceTimersByTimeAsync(T0 + ms - Date.now());
};

describe('LeaderElector (fake clock, in-memory lease)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('creates a missing lease and leads', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    a.elector.start();
    await advanceTo(0);
    expect(a.elector.isLeader).toBe(true);
    expect(a.callbacks).toEqual(['started']);
    expect(store.holder).toBe('pod-a');
    expect(a.messages).toContain('became the leader');
  });

  it('a renewal that hangs: leader until 6999 ms after the last renewal started, not at 7000 ms, stopped by the deadline timer', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    a.elector.start();
    await advanceTo(0);
    a.link.hung = true;
    await advanceTo(6_999);
    expect(a.elector.isLeader).toBe(true);
    expect(a.callbacks).toEqual(['started']);
    await advanceTo(7_000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.elector.sinceRenewalMs).toBe(7_000);
    expect(a.callbacks).toEqual(['started', 'stopped']);
    expect(a.messages).toContain('could not renew the controller lease in time; stepping down');
    // The hung calls are abandoned at the call timeout (4 s, 8 s), not awaited forever: the loop goes on.
    await advanceTo(8_000);
    expect(a.messages.filter((m) => m === 'lease update failed')).toHaveLength(2);
  });

  it('a renewal that started before the deadline and lands at the last moment keeps it leading', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    a.elector.start();
    await advanceTo(0);
    // The attempt at 2 s hangs and times out at 4 s; the one at 6 s takes 499 ms per call: it lands at 6998.
    a.link.hung = true;
    await advanceTo(5_000);
    a.link.hung = false;
    a.link.latencyMs = 499;
    await advanceTo(6_998);
    await advanceTo(7_000);
    expect(a.elector.isLeader).toBe(true);
    expect(a.callbacks).toEqual(['started']);
    // Measured from when that renewal started (6 s), not from when it landed.
    a.link.hung = true;
    await advanceTo(12_999);
    expect(a.elector.isLeader).toBe(true);
    await advanceTo(13_000);
    expect(a.elector.isLeader).toBe(false);
  });

  it('a renewal that lands just after the deadline: stepped down at the deadline, leads again when it lands', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    a.elector.start();
    await advanceTo(0);
    a.link.hung = true;
    await advanceTo(5_000);
    a.link.hung = false;
    a.link.latencyMs = 501;
    await advanceTo(7_000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.callbacks).toEqual(['started', 'stopped']);
    await advanceTo(7_002);
    expect(a.elector.isLeader).toBe(true);
    expect(a.callbacks).toEqual(['started', 'stopped', 'started']);
  });

  it('frozen and resumed: not the leader the very first moment, before any timer or await; then stops', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    a.elector.start();
    await advanceTo(0);
    // SIGSTOP for 20 s: the clock moves, no timer fires, another replica takes the lease meanwhile.
    jest.setSystemTime(T0 + 20_000);
    store.takenBy('pod-b');
    expect(a.elector.isLeader).toBe(false);
    expect(a.callbacks).toEqual(['started']);
    // SIGCONT: the first timer to fire steps it down; seeing pod-b's record, it does not lead again. (Jest's
    // setSystemTime moves timers along with the clock; after a real SIGCONT they are overdue and fire at once.)
    await jest.advanceTimersByTimeAsync(2_000);
    expect(a.callbacks).toEqual(['started', 'stopped']);
    // pod-b's record is fresh (pod-a saw it change on resuming), so pod-a waits.
    await jest.advanceTimersByTimeAsync(5_000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.callbacks).toEqual(['started', 'stopped']);
    expect(store.holder).toBe('pod-b');
  });

  it('a partitioned leader stops before the other candidate may take over, which leads within 12 s', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    const b = candidate(store, 'pod-b');
    a.elector.start();
    await advanceTo(100);
    b.elector.start();
    await advanceTo(5_000);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    a.link.hung = true;
    let aStoppedAt: number | undefined;
    let bLedAt: number | undefined;
    for (let t = 5_000; t <= 25_000; t += 50) {
      await advanceTo(t);
      expect(a.elector.isLeader && b.elector.isLeader).toBe(false);
      if (!a.elector.isLeader) aStoppedAt ??= t;
      if (b.elector.isLeader) bLedAt ??= t;
    }
    // a last renewed at 4 s: it stops at 11 s; b saw that renewal at 4.1 s and takes over at 14.1 s.
    expect(aStoppedAt).toBe(11_000);
    expect(bLedAt).toBe(14_100);
    expect(bLedAt! - 5_000).toBeLessThan(12_000);
    expect(store.holder).toBe('pod-b');
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
  });

  it('a candidate that just started waits a full lease duration from its first read, however old the renewTime', async () => {
    const store = new LeaseStore();
    store.takenBy('pod-gone', new Date(T0 - 3_600_000));
    const b = candidate(store, 'pod-b');
    b.elector.start();
    await advanceTo(9_999);
    expect(b.elector.isLeader).toBe(false);
    await advanceTo(10_000);
    expect(b.elector.isLeader).toBe(true);
    expect(store.holder).toBe('pod-b');
  });

  it('stop releases the lease: the next candidate takes it at its next attempt', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    const b = candidate(store, 'pod-b');
    a.elector.start();
    await advanceTo(0);
    b.elector.start();
    await advanceTo(100);
    await a.elector.stop();
    expect(a.callbacks).toEqual(['started', 'stopped']);
    expect(store.holder).toBe('');
    await advanceTo(2_100);
    expect(b.elector.isLeader).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await advanceTo(10_000);
    expect(a.callbacks).toEqual(['started', 'stopped']);
  });

  it('stop during a hung attempt waits for its timeout, then gives up', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'pod-a');
    a.elector.start();
    await advanceTo(0);
    await advanceTo(1_999);
    a.link.hung = true;
    await advanceTo(2_000);
    let stopped = false;
    void a.elector.stop().then(() => (stopped = true));
    await advanceTo(3_999);
    expect(stopped).toBe(false);
    // The hung read times out at 4 s; the release's own read times out 2 s later.
    await advanceTo(6_000);
    expect(stopped).toBe(true);
    expect(a.callbacks).toEqual(['started', 'stopped']);
    expect(a.messages).toContain('cannot release the controller lease');
  });
});

describe('callWithTimeout', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('answers with the call in time', async () => {
    await expect(callWithTimeout(async () => 'lease', 100, 'read')).resolves.toBe('lease');
  });

  it('turns a synchronous throw into a rejection', async () => {
    const request = (): Promise<never> => {
      throw new Error('bad request');
    };
    await expect(callWithTimeout(request, 100, 'read')).rejects.toThrow('bad request');
  });

  it('gives up at the timeout, aborts the request, and swallows its late failure', async () => {
    jest.useFakeTimers();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let signal: AbortSignal | undefined;
      const call = callWithTimeout(
        (options) => {
          const context = new RequestContext('http://127.0.0.1/', HttpMethod.GET);
          void options.middleware?.[0]?.pre(context).toPromise();
          signal = context.getSignal();
          return new Promise((_, reject) => setTimeout(() => reject(new Error('late failure')), 500));
        },
        100,
        'read of lease ns/lease',
      );
      const outcome = call.then(
        () => 'resolved',
        (error: Error) => error.message,
      );
      await jest.advanceTimersByTimeAsync(100);
      await expect(outcome).resolves.toBe('read of lease ns/lease timed out after 100 ms');
      expect(signal?.aborted).toBe(true);
      await jest.advanceTimersByTimeAsync(1_000);
      jest.useRealTimers();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('abortOptions', () => {
  it('gives the request the signal, keeping the client middleware (append)', async () => {
    const signal = new AbortController().signal;
    const options = abortOptions(signal);
    const context = new RequestContext('http://127.0.0.1/', HttpMethod.GET);
    const passed = await options.middleware![0]!.pre(context).toPromise();
    expect(passed).toBe(context);
    expect(context.getSignal()).toBe(signal);
    expect(options.middlewareMergeStrategy).toBe('append');
  });

  describe('against an HTTP server that never answers (not a cluster: a local socket)', () => {
    let server: Server;
    const closed: Promise<void>[] = [];
    beforeEach(async () => {
      server = createServer((request: IncomingMessage) => {
        closed.push(new Promise((resolve) => request.socket.once('close', () => resolve())));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('client-node 1.4 aborts the request at the timeout: the connection closes', async () => {
      const { port } = server.address() as AddressInfo;
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: 'hang', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
        users: [{ name: 'nobody' }],
        contexts: [{ name: 'hang', cluster: 'hang', user: 'nobody' }],
        currentContext: 'hang',
      });
      const coordination = config.makeApiClient(CoordinationV1Api);
      const started = Date.now();
      await expect(
        callWithTimeout(
          (options) => coordination.readNamespacedLease({ name: 'lease', namespace: 'ns' }, options),
          200,
          'read of lease ns/lease',
        ),
      ).rejects.toThrow('read of lease ns/lease timed out after 200 ms');
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(closed).toHaveLength(1);
      await closed[0];
    });
  });
});
