import {
  ListWatch,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1ConfigMap,
  type V1Deployment,
  type V1Namespace,
  type V1EndpointSlice,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Label, MANAGED_BY } from '../contract/annotations.js';
import { BuildLabel } from '../builder/labels.js';
import { describeApiError, type Kube } from '../kube/client.js';
import { jitteredBackoff, WATCH_BACKOFF } from './backoff.js';
import { SLICE_MANAGED_BY_LABEL, SLICE_MANAGER } from './desired/activator-slice.js';
import type { ChildKind } from './plan.js';
import {
  slimChild,
  slimDeployment,
  slimEndpointSlice,
  slimBuildPod,
  slimJob,
  slimNamespace,
  slimPod,
  slimSourceConfigMap,
  type Slimmer,
} from './slim.js';

export type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/** Watched state: function Deployments, the children Cloudbase made, and Namespaces (their route grants). */
export interface FunctionCaches {
  deployments: Cache<V1Deployment>;
  children: Record<ChildKind, Cache<KubernetesObject>>;
  namespaces: Cache<V1Namespace>;
  /** The namespaces' ServersTransports Cloudbase wrote (desired/route.ts desiredNamespaceTransport). */
  transports: Cache<KubernetesObject>;
  /** Function pods (the label the webhook puts on the template): the autoscaler reads their stats. */
  pods: Cache<V1Pod>;
  /** With a registry: the build Jobs Cloudbase started (src/builder), by their label. */
  jobs?: Cache<V1Job>;
  /** With a registry: the build Jobs' pods (their label), which say whether a build could start and how it ended. */
  buildPods?: Cache<V1Pod>;
  /** With a registry: every ConfigMap's name and version, so that an edit of a function's source builds it. */
  sources?: Cache<V1ConfigMap>;
  /** With an activator: its Service's EndpointSlices, and the activator slices Cloudbase wrote. */
  activator?: { endpoints: Cache<V1EndpointSlice>; slices: Cache<V1EndpointSlice> };
  /** Every cache with its name and health, for startCaches. */
  watched: WatchedCache[];
}

/** What startCaches needs of an informer: client-node's ListWatch, or a fake in tests. */
export type Restartable = Pick<Informer<KubernetesObject>, 'on' | 'start' | 'stop'>;

export interface WatchedCache {
  name: string;
  cache: Restartable;
  health: CacheHealth;
}

/** Functions carry the label the mutating webhook adds; children carry our managed-by label. */
export const FUNCTION_SELECTOR = Label.function;
export const CHILD_SELECTOR = `${Label.managedBy}=${MANAGED_BY}`;
/** The activator EndpointSlices Cloudbase writes (desired/activator-slice.ts). */
export const ACTIVATOR_SLICE_SELECTOR = `${SLICE_MANAGED_BY_LABEL}=${SLICE_MANAGER}`;

export const CHILD_API_VERSIONS: Record<ChildKind, string> = {
  Service: 'v1',
  Middleware: 'traefik.io/v1alpha1',
  IngressRoute: 'traefik.io/v1alpha1',
};

/**
 * A watch that stayed open this long had worked: the failure that ends it is counted as the first again.
 * Longer than the longest backoff (30 s), so a watch that fails soon after every start still backs off.
 * client-go's reflector resets after 2 minutes without a failure; we time the open watch itself, so a list
 * that hangs a long while before it fails is never taken for health.
 */
export const HEALTHY_WATCH_MS = 60_000;

/**
 * One cache's health, as its list function and its watch report it and as its restarts read it.
 * client-node's ListWatch (1.4.0 cache.js) emits `connect` before it lists, and its `start()` resolves even
 * when the list failed: neither says the cache is filled. Synced means a list of ours has returned and
 * ListWatch has stored it. It stays true when a later watch or relist fails (the cache then lags, as
 * client-go's HasSynced).
 */
export class CacheHealth {
  private listedOnce = false;
  private listPending = false;
  private isStopped = false;
  private failureCount = 0;
  private readonly first: Promise<void>;
  private settleFirst: (error?: Error) => void = () => undefined;

  constructor() {
    this.first = new Promise<void>((resolve, reject) => {
      this.settleFirst = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Caches may be stopped before anyone waits for their first list: that rejection is not unhandled.
    this.first.catch(() => undefined);
  }

  get synced(): boolean {
    return this.listedOnce;
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Failures in a row since the last success. */
  get failures(): number {
    return this.failureCount;
  }

  /** Our list function returned a list; ListWatch stores its items next, then opens its watch. */
  listReturned(): void {
    this.listPending = true;
  }

  /**
   * ListWatch opens a watch. After a list, it has just stored the list's items (in the same synchronous
   * step: cache.js doneHandler), so the cache is synced; and the list succeeded, so failures start afresh.
   */
  watchOpening(): void {
    if (!this.listPending) return;
    this.listPending = false;
    this.listedOnce = true;
    this.failureCount = 0;
    this.settleFirst();
  }

  /** A watch that had opened has ended after `openMs`. */
  watchClosed(openMs: number): void {
    if (openMs >= HEALTHY_WATCH_MS) this.failureCount = 0;
  }

  /** A list or a watch failed: returns the failures in a row, this one included. */
  failed(): number {
    this.failureCount += 1;
    return this.failureCount;
  }

  /** Resolves once the cache has synced; rejects if it is stopped before. */
  firstList(): Promise<void> {
    return this.first;
  }

  stop(): void {
    this.isStopped = true;
    this.settleFirst(new Error('the caches were stopped before they synced'));
  }
}

function abortedRequest(): AbortController {
  const request = new AbortController();
  request.abort();
  return request;
}

/**
 * The watch given to ListWatch, whose constructor takes any Watch: client-node's, with each object slimmed
 * (slim.ts) before the cache stores it, and each watch's lifetime reported to the cache's health. It opens
 * nothing once the cache is stopped, and closes a watch that opened while stop() ran, so a list or a connect
 * in flight at stop() leaves no watch behind. A watch that throws before it opens (client-node reads the
 * credentials first) ends as a failure the restarts retry: ListWatch, reconnecting by itself, would leave
 * the rejection unhandled.
 */
export class CacheWatch implements Watch {
  readonly config: KubeConfig;

  constructor(
    private readonly inner: Watch,
    private readonly slim: Slimmer,
    private readonly health: CacheHealth,
    private readonly now: () => number = Date.now,
  ) {
    this.config = inner.config;
  }

  async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.health.watchOpening();
    if (this.health.stopped) return abortedRequest();
    let ended = false;
    let openedAt: number | undefined;
    const end = (error: unknown): void => {
      if (ended) return;
      ended = true;
      if (openedAt !== undefined) this.health.watchClosed(this.now() - openedAt);
      done(error);
    };
    const slimmed = (phase: string, object: KubernetesObject, watchObject?: unknown): void =>
      // An ERROR event carries a Status (410 Gone: list again), which ListWatch reads as it is.
      callback(phase, phase === 'ERROR' ? object : this.slim(object), watchObject);
    try {
      const request = await this.inner.watch(path, queryParams, slimmed, end);
      if (this.health.stopped) request.abort();
      else if (!ended) openedAt = this.now();
      return request;
    } catch (error) {
      end(error);
      return abortedRequest();
    }
  }
}

/** How to list and watch one kind of object. */
export interface CacheSource<T extends KubernetesObject> {
  name: string;
  /** The watch path, e.g. `/apis/apps/v1/deployments`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector: string | undefined;
  slim: Slimmer;
  watch: Watch;
  now?: () => number;
}

/** A client-node ListWatch whose list and watch slim every object and report to the cache's health. */
export function watchedCache<T extends KubernetesObject>(
  source: CacheSource<T>,
): { cache: Cache<T>; watched: WatchedCache } {
  const health = new CacheHealth();
  const list = async (): Promise<KubernetesListObject<T>> => {
    const result = await source.list();
    for (const item of result.items) source.slim(item);
    health.listReturned();
    return result;
  };
  const watch = new CacheWatch(source.watch, source.slim, health, source.now);
  const cache = new ListWatch<T>(source.path, watch, list, false, source.labelSelector);
  return { cache, watched: { name: source.name, cache, health } };
}

/** The activator's Service, whose EndpointSlices list its pods. */
export interface ServiceRef {
  namespace: string;
  service: string;
}

export function createCaches(
  kube: Kube,
  activator?: ServiceRef,
  options: { builds?: boolean } = {},
): FunctionCaches {
  const watch = new Watch(kube.config);
  const watched: WatchedCache[] = [];
  const add: AddCache = <T extends KubernetesObject>(source: Omit<CacheSource<T>, 'watch'>): Cache<T> => {
    const made = watchedCache({ ...source, watch });
    watched.push(made.watched);
    return made.cache;
  };
  const traefik = (plural: string): Cache<KubernetesObject> =>
    add({
      name: plural,
      path: `/apis/traefik.io/v1alpha1/${plural}`,
      list: () =>
        kube.custom.listClusterCustomObject({
          group: 'traefik.io',
          version: 'v1alpha1',
          plural,
          labelSelector: CHILD_SELECTOR,
        }) as Promise<KubernetesListObject<KubernetesObject>>,
      labelSelector: CHILD_SELECTOR,
      slim: slimChild,
    });
  const activatorCaches = activator === undefined ? undefined : createActivatorCaches(kube, activator, add);
  const buildCaches = options.builds === true ? createBuildCaches(kube, add) : {};
  return {
    ...(activatorCaches === undefined ? {} : { activator: activatorCaches }),
    ...buildCaches,
    deployments: add<V1Deployment>({
      name: 'deployments',
      path: '/apis/apps/v1/deployments',
      list: () => kube.apps.listDeploymentForAllNamespaces({ labelSelector: FUNCTION_SELECTOR }),
      labelSelector: FUNCTION_SELECTOR,
      slim: slimDeployment,
    }),
    transports: traefik('serverstransports'),
    children: {
      Service: add<KubernetesObject>({
        name: 'services',
        path: '/api/v1/services',
        list: () => kube.core.listServiceForAllNamespaces({ labelSelector: CHILD_SELECTOR }),
        labelSelector: CHILD_SELECTOR,
        slim: slimChild,
      }),
      Middleware: traefik('middlewares'),
      IngressRoute: traefik('ingressroutes'),
    },
    pods: add<V1Pod>({
      name: 'pods',
      path: '/api/v1/pods',
      list: () => kube.core.listPodForAllNamespaces({ labelSelector: FUNCTION_SELECTOR }),
      labelSelector: FUNCTION_SELECTOR,
      slim: slimPod,
    }),
    namespaces: add<V1Namespace>({
      name: 'namespaces',
      path: '/api/v1/namespaces',
      list: () => kube.core.listNamespace(),
      labelSelector: undefined,
      slim: slimNamespace,
    }),
    watched,
  };
}

type AddCache = <T extends KubernetesObject>(source: Omit<CacheSource<T>, 'watch'>) => Cache<T>;

/** The caches image builds need: the build Jobs Cloudbase started, their pods, and every ConfigMap's name and version. */
function createBuildCaches(
  kube: Kube,
  add: AddCache,
): Pick<FunctionCaches, 'jobs' | 'buildPods' | 'sources'> {
  return {
    jobs: add<V1Job>({
      name: 'jobs',
      path: '/apis/batch/v1/jobs',
      list: () => kube.batch.listJobForAllNamespaces({ labelSelector: BuildLabel.function }),
      labelSelector: BuildLabel.function,
      slim: slimJob,
    }),
    buildPods: add<V1Pod>({
      name: 'build-pods',
      path: '/api/v1/pods',
      list: () => kube.core.listPodForAllNamespaces({ labelSelector: BuildLabel.function }),
      labelSelector: BuildLabel.function,
      slim: slimBuildPod,
    }),
    sources: add<V1ConfigMap>({
      name: 'configmaps',
      path: '/api/v1/configmaps',
      list: () => kube.core.listConfigMapForAllNamespaces(),
      labelSelector: undefined,
      slim: slimSourceConfigMap,
    }),
  };
}

/** The activator's Service's EndpointSlices (its pods), and the activator slices Cloudbase wrote. */
function createActivatorCaches(
  kube: Kube,
  activator: ServiceRef,
  add: AddCache,
): FunctionCaches['activator'] {
  const selector = `kubernetes.io/service-name=${activator.service}`;
  return {
    endpoints: add<V1EndpointSlice>({
      name: 'activator-endpointslices',
      path: `/apis/discovery.k8s.io/v1/namespaces/${activator.namespace}/endpointslices`,
      list: () =>
        kube.discovery.listNamespacedEndpointSlice({
          namespace: activator.namespace,
          labelSelector: selector,
        }),
      labelSelector: selector,
      slim: slimEndpointSlice,
    }),
    slices: add<V1EndpointSlice>({
      name: 'function-endpointslices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: () =>
        kube.discovery.listEndpointSliceForAllNamespaces({ labelSelector: ACTIVATOR_SLICE_SELECTOR }),
      labelSelector: ACTIVATOR_SLICE_SELECTOR,
      slim: slimEndpointSlice,
    }),
  };
}

/** The caches, running. */
export interface RunningCaches {
  /** Resolves once every cache has synced (listed once); rejects if they are stopped before. */
  ready: Promise<void>;
  /** Whether every cache has synced: until then nothing may decide from them, and /readyz says no. */
  synced(): boolean;
  /** Stops every cache and its restarts: no timer is left, and nothing starts or opens again. */
  stop(): Promise<void>;
}

/**
 * Starts every cache and keeps it running: a failed list or watch is retried after a backoff that grows
 * with jitter from 1 s to 30 s (keepRunning). `ready` resolves only once every cache has listed, so nothing
 * decides from an empty cache.
 */
export function startCaches(
  caches: Pick<FunctionCaches, 'watched'>,
  logger: Logger,
  onError: () => void,
  random: () => number = Math.random,
): RunningCaches {
  const { watched } = caches;
  const cancels = watched.map((cache) => keepRunning(cache, logger, onError, random));
  const ready = Promise.all(watched.map((cache) => cache.health.firstList())).then(() => undefined);
  // Stopping before `ready` is allowed, whether or not anyone waits for it.
  ready.catch(() => undefined);
  return {
    ready,
    synced: () => watched.every((cache) => cache.health.synced),
    async stop() {
      for (const cancel of cancels) cancel();
      await Promise.all(watched.map((cache) => cache.cache.stop()));
    },
  };
}

/**
 * Starts one cache, and after each failure starts it again after `jitteredBackoff(failures)` (backoff.ts
 * WATCH_BACKOFF: 1 s, 2 s, 4 s ... 30 s, each between half and all of it). The count goes back to zero
 * only on a success (CacheHealth): a list that landed, or a watch that stayed open HEALTHY_WATCH_MS.
 * client-node's `connect` is not one: it comes before every list, failed or not. Returns the stop.
 */
function keepRunning(
  watched: WatchedCache,
  logger: Logger,
  onError: () => void,
  random: () => number,
): () => void {
  const { name, cache, health } = watched;
  let waiting: NodeJS.Timeout | undefined;
  const attempt = (): void => {
    waiting = undefined;
    if (health.stopped) return;
    cache.start().catch(failed);
  };
  const failed = (error: unknown): void => {
    // Once stopped, ListWatch reports its aborted watch as an error too; and one retry waits at a time.
    if (health.stopped || waiting !== undefined) return;
    const failures = health.failed();
    const delayMs = jitteredBackoff(failures, WATCH_BACKOFF, random);
    onError();
    logger.warn(
      { informer: name, failures, delayMs, err: describeApiError(error) },
      health.synced ? 'list or watch failed; restarting' : 'list failed; the cache is not synced, retrying',
    );
    waiting = setTimeout(attempt, delayMs);
    waiting.unref();
  };
  cache.on('error', failed);
  attempt();
  return () => {
    health.stop();
    clearTimeout(waiting);
    waiting = undefined;
  };
}
