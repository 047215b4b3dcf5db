import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  KubeConfig,
  type ErrorCallback,
  type KubernetesListObject,
  type KubernetesObject,
  type Watch,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import {
  CacheHealth,
  CacheWatch,
  HEALTHY_WATCH_MS,
  startCaches,
  watchedCache,
  type Restartable,
  type RunningCaches,
  type WatchedCache,
} from './informers.js';
import { slimDeployment } from './slim.js';

const logger = pino({ level: 'silent' });

/** Runs every timer due in the next `ms` and the promises they settle. */
const advance = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms);

/** How a promise stands, without waiting for it. */
function track(promise: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const tracked: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  promise.then(
    () => (tracked.state = 'resolved'),
    (error: unknown) => Object.assign(tracked, { state: 'rejected', error }),
  );
  return tracked;
}

/**
 * An informer we control: start() does what `onStart` says, `fail` is ListWatch emitting `error`. Its
 * health is told of a list that landed (listed) the way CacheWatch tells it.
 */
class FakeInformer implements Restartable {
  readonly health = new CacheHealth();
  readonly startedAt: number[] = [];
  stops = 0;
  onStart: () => Promise<void> = () => Promise.resolve();
  private readonly errorHandlers: ErrorCallback[] = [];

  on(verb: string, callback: ErrorCallback): void {
    if (verb === 'error') this.errorHandlers.push(callback);
  }

  start(): Promise<void> {
    this.startedAt.push(Date.now());
    return this.onStart();
  }

  stop(): Promise<void> {
    this.stops += 1;
    return Promise.resolve();
  }

  fail(error: unknown = new Error('connection refused')): void {
    for (const handler of this.errorHandlers) handler(error);
  }

  listed(): void {
    this.health.listReturned();
    this.health.watchOpening();
  }

  /** A start whose list fails: ListWatch emits `error` and its start() resolves anyway. */
  readonly listFails = (): Promise<void> => {
    this.fail(new Error('HTTP 503'));
    return Promise.resolve();
  };

  readonly listSucceeds = (): Promise<void> => {
    this.listed();
    return Promise.resolve();
  };

  get gaps(): number[] {
    return this.startedAt.slice(1).map((at, i) => at - this.startedAt[i]!);
  }

  get watched(): WatchedCache {
    return { name: 'fake', cache: this, health: this.health };
  }
}

function run(
  informers: FakeInformer[],
  random = (): number => 0,
): { running: RunningCaches; errors: number[] } {
  const errors = [0];
  const running = startCaches(
    { watched: informers.map((i) => i.watched) },
    logger,
    () => (errors[0]! += 1),
    random,
  );
  return { running, errors };
}

describe('startCaches (an informer we control, fake clock)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('is not synced while the list fails, although start() resolved; ready once a list lands', async () => {
    const informer = new FakeInformer();
    informer.onStart = informer.listFails;
    const { running, errors } = run([informer]);
    const ready = track(running.ready);
    await advance(0);
    expect(running.synced()).toBe(false);
    expect(ready.state).toBe('pending');
    expect(errors[0]).toBe(1);
    informer.onStart = informer.listSucceeds;
    await advance(500);
    expect(informer.startedAt).toEqual([0, 500]);
    expect(running.synced()).toBe(true);
    expect(ready.state).toBe('resolved');
    await running.stop();
  });

  it('waits for every cache: synced only when the last one has listed', async () => {
    const [a, b] = [new FakeInformer(), new FakeInformer()];
    a.onStart = a.listSucceeds;
    b.onStart = b.listFails;
    const { running } = run([a, b]);
    const ready = track(running.ready);
    await advance(0);
    expect(running.synced()).toBe(false);
    b.onStart = b.listSucceeds;
    await advance(500);
    expect(running.synced()).toBe(true);
    expect(ready.state).toBe('resolved');
    await running.stop();
  });

  it.each([
    ['shortest', 0, [500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]],
    ['longest', 0.999_999, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]],
  ])(
    'backs off with jitter from 1 s to 30 s while the list keeps failing (%s draw)',
    async (_draw, random, gaps) => {
      const informer = new FakeInformer();
      informer.onStart = informer.listFails;
      const { running } = run([informer], () => random);
      await advance(100_000);
      expect(informer.gaps.slice(0, 7)).toEqual(gaps);
      await running.stop();
    },
  );

  it('starts the backoff afresh after a list that landed', async () => {
    const informer = new FakeInformer();
    informer.onStart = informer.listFails;
    const { running } = run([informer]);
    await advance(500 + 1_000);
    expect(informer.health.failures).toBe(3);
    informer.onStart = informer.listSucceeds;
    await advance(2_000);
    expect(informer.health.failures).toBe(0);
    informer.fail();
    expect(informer.health.failures).toBe(1);
    await advance(500);
    expect(informer.gaps).toEqual([500, 1_000, 2_000, 500]);
    await running.stop();
  });

  it('starts the backoff afresh after a watch that stayed open a minute, not after a shorter one', async () => {
    const informer = new FakeInformer();
    informer.onStart = informer.listSucceeds;
    const { running } = run([informer]);
    await advance(0);
    // Later starts only watch again (ListWatch keeps its resourceVersion): no list, no reset.
    informer.onStart = () => Promise.resolve();
    informer.fail();
    await advance(500);
    informer.health.watchClosed(HEALTHY_WATCH_MS - 1);
    informer.fail();
    expect(informer.health.failures).toBe(2);
    await advance(1_000);
    informer.health.watchClosed(HEALTHY_WATCH_MS);
    informer.fail();
    expect(informer.health.failures).toBe(1);
    await advance(500);
    expect(informer.gaps).toEqual([500, 1_000, 500]);
    await running.stop();
  });

  it('retries a start() that rejects like a failure it reported', async () => {
    const informer = new FakeInformer();
    informer.onStart = () => Promise.reject(new Error('No currently active cluster'));
    const { running, errors } = run([informer]);
    await advance(500 + 1_000);
    expect(informer.gaps).toEqual([500, 1_000]);
    expect(errors[0]).toBe(3);
    await running.stop();
  });

  it('counts a second error during a retry wait once, and retries once', async () => {
    const informer = new FakeInformer();
    informer.onStart = informer.listSucceeds;
    const { running } = run([informer]);
    await advance(0);
    informer.fail();
    informer.fail();
    expect(informer.health.failures).toBe(1);
    await advance(HEALTHY_WATCH_MS);
    expect(informer.startedAt).toEqual([0, 500]);
    await running.stop();
  });

  it('stop() during a retry wait leaves no timer and starts nothing again', async () => {
    const informer = new FakeInformer();
    informer.onStart = informer.listFails;
    const { running } = run([informer]);
    const ready = track(running.ready);
    await advance(0);
    expect(jest.getTimerCount()).toBe(1);
    await running.stop();
    expect(jest.getTimerCount()).toBe(0);
    expect(informer.stops).toBe(1);
    // ListWatch reports its aborted watch as an error once stopped: nothing is scheduled for it.
    informer.fail();
    expect(jest.getTimerCount()).toBe(0);
    await advance(10 * 60_000);
    expect(informer.startedAt).toEqual([0]);
    expect(ready.state).toBe('rejected');
    expect(String(ready.error)).toContain('stopped before they synced');
  });
});

/** client-node's Watch, without a server: each watch() opens a request we end by hand. */
class FakeWatch implements Watch {
  readonly config = new KubeConfig();
  readonly opened: {
    queryParams: Record<string, unknown>;
    emit: (phase: string, object: unknown) => void;
    end: (error: unknown) => void;
    request: AbortController;
  }[] = [];
  /** What the next watch() does instead of opening: throw (credentials unreadable) or wait. */
  next: { throws?: Error; wait?: Promise<void> } = {};

  async watch(
    _path: string,
    queryParams: Record<string, unknown>,
    callback: (phase: string, apiObj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const { throws, wait } = this.next;
    this.next = {};
    if (throws !== undefined) throw throws;
    if (wait !== undefined) await wait;
    const request = new AbortController();
    // As watch.js: done once, whether the server ended the watch or we aborted it.
    let ended = false;
    const end = (error: unknown): void => {
      if (ended) return;
      ended = true;
      request.abort();
      done(error);
    };
    request.signal.addEventListener('abort', () => end(new Error('aborted')));
    this.opened.push({ queryParams, emit: callback, end, request });
    return request;
  }
}

const deployment = (name: string, resourceVersion: string): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'demo',
      resourceVersion,
      managedFields: [{ manager: 'kubectl' }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'cloudbase.dev/route': '/' },
    },
    spec: { template: { spec: { containers: [] } } },
    status: { replicas: 1 },
  }) as KubernetesObject;

const listOf = (...items: KubernetesObject[]): KubernetesListObject<KubernetesObject> => ({
  metadata: { resourceVersion: '10' },
  items,
});

const slimmed = (name: string, resourceVersion: string): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'demo', resourceVersion, annotations: { 'cloudbase.dev/route': '/' } },
});

/** A client-node ListWatch as createCaches makes it, over a list function and a FakeWatch; `run` starts it. */
function listWatch(list: () => Promise<KubernetesListObject<KubernetesObject>>) {
  const watch = new FakeWatch();
  const { cache, watched } = watchedCache<KubernetesObject>({
    name: 'deployments',
    path: '/apis/apps/v1/deployments',
    list,
    labelSelector: 'cloudbase.dev/function',
    slim: slimDeployment,
    watch,
  });
  const run = (): RunningCaches =>
    startCaches(
      { watched: [watched] },
      logger,
      () => undefined,
      () => 0,
    );
  return { cache, health: watched.health, watch, run };
}

describe("client-node's ListWatch with our list function and CacheWatch (fake clock)", () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('reports connect before a list that fails; synced only once a list is in the cache', async () => {
    const list = jest
      .fn<() => Promise<KubernetesListObject<KubernetesObject>>>()
      .mockRejectedValueOnce(new Error('HTTP 403: forbidden'))
      .mockResolvedValue(listOf(deployment('a', '1'), deployment('b', '2')));
    const { cache, run, watch, health } = listWatch(list);
    let connects = 0;
    cache.on('connect', () => (connects += 1));
    const running = run();
    // Whoever waits for the first list finds the listed objects in the cache.
    const seenWhenReady = running.ready.then(() => cache.list().length);
    const seenWhenListed = health.firstList().then(() => cache.list().length);
    await advance(0);
    expect(connects).toBe(1);
    expect(running.synced()).toBe(false);
    expect(watch.opened).toHaveLength(0);
    await advance(500);
    expect(connects).toBe(2);
    expect(running.synced()).toBe(true);
    expect(await seenWhenReady).toBe(2);
    expect(await seenWhenListed).toBe(2);
    expect(cache.get('a', 'demo')).toEqual(slimmed('a', '1'));
    expect(watch.opened[0]!.queryParams).toMatchObject({ resourceVersion: '10' });
    await running.stop();
  });

  it('backs off while the list keeps failing, though ListWatch reports connect before every list', async () => {
    const list = jest.fn(() => Promise.reject(new Error('HTTP 503')));
    const { run } = listWatch(list);
    const running = run();
    const at: number[] = [];
    list.mockImplementation(() => {
      at.push(Date.now());
      return Promise.reject(new Error('HTTP 503'));
    });
    await advance(500 + 1_000 + 2_000 + 4_000);
    expect(at).toEqual([500, 1_500, 3_500, 7_500]);
    expect(running.synced()).toBe(false);
    await running.stop();
  });

  it('slims what the watch delivers before the cache stores it, and passes an ERROR Status as it is', async () => {
    const { cache, run, watch } = listWatch(() => Promise.resolve(listOf()));
    const running = run();
    await advance(0);
    watch.opened[0]!.emit('ADDED', deployment('c', '11'));
    expect(cache.get('c', 'demo')).toEqual(slimmed('c', '11'));
    await running.stop();

    const received: unknown[] = [];
    const health = new CacheHealth();
    const inner = new FakeWatch();
    await new CacheWatch(inner, slimDeployment, health).watch(
      '/x',
      {},
      (_phase, object) => received.push(object),
      () => undefined,
    );
    const status = () => ({ kind: 'Status', code: 410, status: 'Failure', details: { kind: 'deployments' } });
    inner.opened[0]!.emit('ERROR', status());
    expect(received).toEqual([status()]);
  });

  it('opens no watch after stop() when the list was in flight', async () => {
    let release: (list: KubernetesListObject<KubernetesObject>) => void = () => undefined;
    const { run, watch } = listWatch(() => new Promise((resolve) => (release = resolve)));
    const running = run();
    await advance(0);
    await running.stop();
    release(listOf(deployment('a', '1')));
    await advance(HEALTHY_WATCH_MS);
    expect(watch.opened).toHaveLength(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('closes a watch that opens after stop() when it was connecting', async () => {
    let connect: () => void = () => undefined;
    const watchPending = new Promise<void>((resolve) => (connect = resolve));
    const { run, watch } = listWatch(() => Promise.resolve(listOf()));
    watch.next = { wait: watchPending };
    const running = run();
    await advance(0);
    await running.stop();
    connect();
    await advance(0);
    expect(watch.opened[0]!.request.signal.aborted).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('retries with backoff a reconnect that throws before it opens (ListWatch alone would not catch it)', async () => {
    const { run, watch, health } = listWatch(() => Promise.resolve(listOf()));
    const running = run();
    await advance(0);
    // The API server ends the watch; ListWatch reconnects by itself and client-node cannot read the token.
    watch.next = { throws: new Error('ENOENT: token') };
    watch.opened[0]!.end(null);
    await advance(0);
    expect(health.failures).toBe(1);
    expect(watch.opened).toHaveLength(1);
    await advance(500);
    expect(watch.opened).toHaveLength(2);
    await running.stop();
  });

  it('starts the backoff afresh when a watch had stayed open a minute', async () => {
    const { run, watch, health } = listWatch(() => Promise.resolve(listOf()));
    const running = run();
    await advance(10_000);
    watch.opened[0]!.end(new Error('connection reset'));
    expect(health.failures).toBe(1);
    await advance(500 + 5_000);
    watch.opened[1]!.end(new Error('connection reset'));
    expect(health.failures).toBe(2);
    await advance(1_000 + HEALTHY_WATCH_MS);
    watch.opened[2]!.end(new Error('connection reset'));
    expect(health.failures).toBe(1);
    await running.stop();
  });
});
