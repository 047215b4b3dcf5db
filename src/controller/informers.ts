import {
  ListWatch,
  Watch,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Deployment,
  type V1Namespace,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Label, MANAGED_BY } from '../contract/annotations.js';
import { describeApiError, type Kube } from '../kube/client.js';
import { jitteredBackoff, WATCH_BACKOFF } from './backoff.js';
import type { ChildKind } from './plan.js';
import { slimChild, slimDeployment, slimNamespace, type Slimmer } from './slim.js';

export type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/** Watched state: function Deployments, the children Cloudbase made, and Namespaces (their route grants). */
export interface FunctionCaches {
  deployments: Cache<V1Deployment>;
  children: Record<ChildKind, Cache<KubernetesObject>>;
  namespaces: Cache<V1Namespace>;
  /** Every cache with its name and whether its first list has succeeded, for startCaches. */
  watched: WatchedCache[];
}

export interface WatchedCache {
  name: string;
  cache: Cache<KubernetesObject>;
  listed: ListState;
}

/** Functions carry the label the mutating webhook adds; children carry our managed-by label. */
export const FUNCTION_SELECTOR = Label.function;
export const CHILD_SELECTOR = `${Label.managedBy}=${MANAGED_BY}`;

export const CHILD_API_VERSIONS: Record<ChildKind, string> = {
  Service: 'v1',
  Middleware: 'traefik.io/v1alpha1',
  IngressRoute: 'traefik.io/v1alpha1',
};

/** Whether a cache's list has succeeded: client-node's ListWatch reports a connect before it lists. */
export class ListState {
  private listedOnce = false;
  private readonly listeners: (() => void)[] = [];
  private readonly waiting: (() => void)[] = [];

  get synced(): boolean {
    return this.listedOnce;
  }

  markListed(): void {
    this.listedOnce = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** Calls `listener` after every successful list from now on. */
  onListed(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Tells the listeners of a successful list. */
  notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves once the first list has succeeded. */
  firstList(): Promise<void> {
    return this.listedOnce ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** A watch whose objects are trimmed (slim.ts) before the cache stores them. Uses client-node's public API. */
class SlimWatch extends Watch {
  constructor(
    kube: Kube,
    private readonly slim: Slimmer,
  ) {
    super(kube.config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, object: KubernetesObject, watchObject) =>
        // An ERROR event carries a Status (e.g. 410 Gone), which the cache reads as it is.
        callback(phase, phase === 'ERROR' ? object : this.slim(object), watchObject),
      done,
    );
  }
}

function slimCache<T extends KubernetesObject>(
  kube: Kube,
  name: string,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  slim: Slimmer,
  labelSelector: string | undefined,
): { cache: Cache<T>; watched: WatchedCache } {
  const listed = new ListState();
  const listFn = async (): Promise<KubernetesListObject<T>> => {
    const result = await list();
    result.items = result.items.map((item) => slim(item) as T);
    listed.markListed();
    listed.notify();
    return result;
  };
  const cache = new ListWatch<T>(path, new SlimWatch(kube, slim), listFn, false, labelSelector);
  return { cache, watched: { name, cache: cache, listed } };
}

export function createCaches(kube: Kube): FunctionCaches {
  const watched: WatchedCache[] = [];
  const add = <T extends KubernetesObject>(made: { cache: Cache<T>; watched: WatchedCache }): Cache<T> => {
    watched.push(made.watched);
    return made.cache;
  };
  const traefik = (plural: string): Cache<KubernetesObject> =>
    add(
      slimCache<KubernetesObject>(
        kube,
        plural,
        `/apis/traefik.io/v1alpha1/${plural}`,
        () =>
          kube.custom.listClusterCustomObject({
            group: 'traefik.io',
            version: 'v1alpha1',
            plural,
            labelSelector: CHILD_SELECTOR,
          }) as Promise<KubernetesListObject<KubernetesObject>>,
        slimChild,
        CHILD_SELECTOR,
      ),
    );
  return {
    deployments: add(
      slimCache<V1Deployment>(
        kube,
        'deployments',
        '/apis/apps/v1/deployments',
        () => kube.apps.listDeploymentForAllNamespaces({ labelSelector: FUNCTION_SELECTOR }),
        slimDeployment,
        FUNCTION_SELECTOR,
      ),
    ),
    children: {
      Service: add(
        slimCache<KubernetesObject>(
          kube,
          'services',
          '/api/v1/services',
          () => kube.core.listServiceForAllNamespaces({ labelSelector: CHILD_SELECTOR }),
          slimChild,
          CHILD_SELECTOR,
        ),
      ),
      Middleware: traefik('middlewares'),
      IngressRoute: traefik('ingressroutes'),
    },
    namespaces: add(
      slimCache<V1Namespace>(
        kube,
        'namespaces',
        '/api/v1/namespaces',
        () => kube.core.listNamespace(),
        slimNamespace,
        undefined,
      ),
    ),
    watched,
  };
}

/** The caches running: resolves `ready` once every first list succeeded. */
export interface RunningCaches {
  ready: Promise<void>;
  synced(): boolean;
  stop(): Promise<void>;
}

/** A failure this long after the previous one starts the backoff afresh: the watch was healthy meanwhile. */
const HEALTHY_AFTER_MS = 60_000;

/**
 * Starts every cache and keeps it running: a failed list or watch is restarted after a backoff that grows
 * with jitter (1 s to 30 s, backoff.ts), reset by a successful list or a minute without failure. `ready`
 * resolves only when every cache has listed once, so nothing decides from an empty cache.
 */
export function startCaches(
  caches: FunctionCaches,
  logger: Logger,
  onError: () => void,
  random: () => number = Math.random,
): RunningCaches {
  const stops: (() => void)[] = [];
  for (const watched of caches.watched) stops.push(keepWatching(watched, logger, onError, random));
  return {
    ready: Promise.all(caches.watched.map((w) => w.listed.firstList())).then(() => undefined),
    synced: () => caches.watched.every((w) => w.listed.synced),
    async stop() {
      for (const stop of stops) stop();
      await Promise.all(caches.watched.map((w) => w.cache.stop()));
    },
  };
}

function keepWatching(
  watched: WatchedCache,
  logger: Logger,
  onError: () => void,
  random: () => number,
): () => void {
  let failures = 0;
  let lastFailureAt = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  watched.listed.onListed(() => {
    failures = 0;
  });
  const start = (): void => {
    if (stopped) return;
    watched.cache.start().catch(restart);
  };
  const restart = (error: unknown): void => {
    if (stopped) return;
    const now = Date.now();
    if (now - lastFailureAt > HEALTHY_AFTER_MS) failures = 0;
    failures += 1;
    lastFailureAt = now;
    onError();
    const delayMs = jitteredBackoff(failures, WATCH_BACKOFF, random);
    logger.warn(
      { informer: watched.name, failures, delayMs, err: describeApiError(error) },
      watched.listed.synced
        ? 'watch failed; restarting'
        : 'list failed; the cache is not synced yet, retrying',
    );
    clearTimeout(timer);
    timer = setTimeout(start, delayMs);
    timer.unref();
  };
  watched.cache.on('error', restart);
  start();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
