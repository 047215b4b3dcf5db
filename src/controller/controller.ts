import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Namespace,
  V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { describeApiError, isNamespaceTerminating, scaleDeployment, type Kube } from '../kube/client.js';
import { hasRoute, type FunctionSpec } from '../contract/function-spec.js';
import { declaredFunctionName } from '../contract/parse.js';
import { activatorEndpoints } from '../contract/activator.js';
import { ActivatorRoutes, type ServicePortRef } from './autoscaler/activator-routes.js';
import { Autoscaler, NO_ACTIVATOR, type ActivatorView } from './autoscaler/autoscaler.js';
import { createAutoscalerMetrics } from './autoscaler/metrics.js';
import { createStatsReader, getJson } from './autoscaler/stats-client.js';
import { RouteTable } from '../routing/table.js';
import { GrantAnnotation, parseGrant, type GrantResult } from '../routing/grants.js';
import { ClaimTracker } from './claims.js';
import { EventRecorder } from './events.js';
import {
  createCaches,
  startCaches,
  type FunctionCaches,
  type RunningCaches,
  type ServiceRef,
} from './informers.js';
import { LeaderElector } from './leader.js';
import { NamespaceTransports } from './namespace-transports.js';
import { createControllerMetrics, type ControllerMetrics } from './metrics.js';
import { CHILD_KINDS } from './plan.js';
import { WorkQueue } from './queue.js';
import { NotLeadingError, Reconciler } from './reconciler.js';
import { FunctionBuilds } from './builds.js';
import { EventConsumers } from './event-consumers.js';
import type { JetStreamManager } from '@nats-io/jetstream';
import { sourceUsers } from './sources.js';
import type { BuildSettings } from '../builder/job.js';
import { BuildLabel } from '../builder/labels.js';
import type { Runtime } from '../contract/function-spec.js';

export interface ControllerOptions {
  kube: Kube;
  logger: Logger;
  registry: Registry;
  /** Namespace and name of the Lease that elects the reconciling replica. */
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  workers: number;
  resyncMs: number;
  /** Run the autoscaler (default true); false keeps every function's replicas as they are. */
  autoscaler?: boolean;
  /** The activator's Service, when installed: without one no function scales to zero. */
  activatorService?: ServiceRef;
  /** Traefik's API, where the activator is confirmed as a function's route before its last pod goes. */
  traefikApi?: ServicePortRef;
  /** Image builds (`--registry`): where images go, how they are assembled, and what they are built on. */
  builds?: {
    settings: BuildSettings;
    baseImages: Readonly<Record<Runtime, string>>;
    runtimeImages: Readonly<Record<Runtime, string>>;
  };
  /** Hosts no function may route (`--reserved-hosts`): Cloudbase's own, such as the event ingest's. */
  reservedHosts?: readonly string[];
  /** The event bus (`--events-url`): its streams, and a consumer for every event function. */
  events?: { jsm: () => JetStreamManager | Error; replicas: number };
}

/**
 * The function controller. Every replica watches (so a new leader starts with warm caches); only the
 * Lease holder runs workers. Events only enqueue `namespace/name`; reconciles work by level.
 */
export class FunctionController {
  readonly caches: FunctionCaches;
  readonly metrics: ControllerMetrics;
  private readonly queue = new WorkQueue();
  /** Every function's name and route claim; the webhooks in the same process ask it too. */
  readonly routes = new RouteTable((namespace) => this.grantOf(namespace));
  private readonly claims = new ClaimTracker(this.routes);
  private readonly reconciler: Reconciler;
  private readonly elector: LeaderElector;
  private readonly events: EventRecorder;
  private readonly autoscaler: Autoscaler;
  private readonly stats = createStatsReader();
  private readonly consumers: EventConsumers | undefined;
  private workers: Promise<void>[] = [];
  private running: RunningCaches | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(private readonly options: ControllerOptions) {
    this.caches = createCaches(options.kube, options.activatorService, {
      builds: options.builds !== undefined,
    });
    this.metrics = createControllerMetrics(options.registry);
    this.events = new EventRecorder(options.kube, options.identity, options.logger);
    this.consumers =
      options.events === undefined
        ? undefined
        : new EventConsumers({
            ...options.events,
            logger: options.logger.child({ component: 'event-consumers' }),
            assertLeading: (what) => {
              if (!this.elector.isLeader) throw new NotLeadingError(what);
            },
          });
    this.reconciler = new Reconciler({
      kube: options.kube,
      caches: this.caches,
      claims: this.claims,
      events: this.events,
      logger: options.logger,
      isLeading: () => this.elector.isLeader,
      transports: new NamespaceTransports(options.kube, this.caches.transports, options.logger),
      ...(this.consumers === undefined ? {} : { consumers: this.consumers }),
      ...(options.builds === undefined ||
      this.caches.jobs === undefined ||
      this.caches.buildPods === undefined
        ? {}
        : {
            builds: new FunctionBuilds({
              kube: options.kube,
              jobs: this.caches.jobs,
              pods: this.caches.buildPods,
              events: this.events,
              logger: options.logger.child({ component: 'builder' }),
              settings: options.builds.settings,
              baseImages: options.builds.baseImages,
              runtimeImages: options.builds.runtimeImages,
              assertLeading: (what) => {
                if (!this.elector.isLeader) throw new NotLeadingError(what);
              },
            }),
          }),
    });
    this.autoscaler = new Autoscaler({
      deployments: () => this.caches.deployments.list(),
      pods: () => this.caches.pods.list(),
      ownsName: (deployment, spec) =>
        hasRoute(spec) ? this.ownsService(deployment, spec) : this.holdsName(deployment),
      readStats: this.stats.read,
      scale: (namespace, name, replicas) => scaleDeployment(options.kube, namespace, name, replicas),
      isLeading: () => this.elector.isLeader,
      activator: this.activatorView(),
      ...(this.consumers === undefined ? {} : { backlogs: (names) => this.consumers!.backlogs(names) }),
      metrics: createAutoscalerMetrics(options.registry),
      logger: options.logger.child({ component: 'autoscaler' }),
    });
    this.elector = new LeaderElector(
      options.kube,
      { namespace: options.leaseNamespace, name: options.leaseName, identity: options.identity },
      options.logger,
      { onStartedLeading: () => this.startWorkers(), onStoppedLeading: () => this.stopWorkers() },
    );
  }

  /** The route grant of a namespace (routing/grants.ts), from the cached Namespace's annotations. */
  private grantOf(namespace: string): GrantResult {
    const result = parseGrant(namespace, this.caches.namespaces.get(namespace)?.metadata?.annotations);
    const reservedHosts = this.options.reservedHosts ?? [];
    return result.ok && reservedHosts.length > 0
      ? { ok: true, grant: { ...result.grant, reservedHosts } }
      : result;
  }

  /** The activator's routes and stats, or none without an activator. */
  private activatorView(): ActivatorView {
    const caches = this.caches.activator;
    if (caches === undefined) return NO_ACTIVATOR;
    const routes = new ActivatorRoutes({
      kube: this.options.kube,
      logger: this.options.logger.child({ component: 'activator-routes' }),
      readStats: this.stats.read,
      activators: () => activatorEndpoints(caches.endpoints.list(), 'ready'),
      slices: () => caches.slices.list(),
      slice: (namespace, name) => caches.slices.get(name, namespace),
      traefikApi: this.options.traefikApi,
      getJson: (url) => getJson(url),
    });
    // Only the leader writes: prepare() is a no-op for functions it has not prepared itself.
    for (const verb of ['add', 'update', 'delete'] as const)
      caches.endpoints.on(verb, () => {
        if (this.elector.isLeader) routes.activatorsChanged();
      });
    return routes;
  }

  /**
   * Whether the function's Service exists and is its Deployment's: route ownership (the reconciler) gives a
   * Service only to the function that holds its name, so only that one is scaled.
   */
  private ownsService(deployment: V1Deployment, spec: FunctionSpec): boolean {
    const service = this.caches.children.Service.get(spec.name, spec.namespace);
    return (
      service?.metadata?.ownerReferences?.some(
        (ref) => ref.controller === true && ref.uid === deployment.metadata?.uid,
      ) ?? false
    );
  }

  /** Whether the Deployment holds its function name (an event function has no Service to say so). */
  private holdsName(deployment: V1Deployment): boolean {
    const claim = this.claims.table.get(keyOf(deployment));
    return claim !== undefined && this.claims.table.decide(claim).kind === 'owner';
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /**
   * Starts the caches, then campaigns for the Lease. Resolves once every cache has listed successfully:
   * until then nothing may decide from them (a route check on an empty cache would pass anything).
   */
  async start(): Promise<void> {
    this.watchDeployments();
    this.watchNamespaces();
    for (const kind of CHILD_KINDS) this.watchChildren(this.caches.children[kind]);
    // A build Job's progress re-queues the function that owns it.
    if (this.caches.jobs !== undefined) this.watchChildren(this.caches.jobs);
    if (this.caches.buildPods !== undefined) this.watchBuildPods(this.caches.buildPods);
    if (this.caches.sources !== undefined) this.watchSources(this.caches.sources);
    // A namespace's transport edited or deleted by hand: its functions' reconciles write it again.
    this.caches.transports.on('delete', (transport) => {
      for (const deployment of this.caches.deployments.list(transport.metadata?.namespace))
        this.queue.add(keyOf(deployment));
    });
    this.running = startCaches(this.caches, this.options.logger, () =>
      this.metrics.errors.inc({ kind: 'watch' }),
    );
    await this.running.ready;
    this.elector.start();
  }

  /** True once every cache has listed. */
  get synced(): boolean {
    return this.running?.synced() ?? false;
  }

  async stop(): Promise<void> {
    await this.elector.stop();
    this.stopWorkers();
    await this.autoscaler.stop();
    this.stats.close();
    this.queue.shutDown();
    await this.running?.stop();
  }

  /** A change of a Namespace's route grant re-decides its functions and those they overlap. */
  private watchNamespaces(): void {
    const grants = (namespace: V1Namespace | undefined): string =>
      JSON.stringify(Object.values(GrantAnnotation).map((key) => namespace?.metadata?.annotations?.[key]));
    const requeue = (name: string): void => {
      for (const key of this.routes.namespaceChanged(name)) this.queue.add(key);
    };
    this.caches.namespaces.on('add', (namespace) => {
      if (grants(namespace) !== grants(undefined)) requeue(namespace.metadata?.name ?? '');
    });
    this.caches.namespaces.on('update', (namespace) => requeue(namespace.metadata?.name ?? ''));
    this.caches.namespaces.on('delete', (namespace) => requeue(namespace.metadata?.name ?? ''));
  }

  private watchDeployments(): void {
    const onChange = (deployment: V1Deployment): void => {
      const key = keyOf(deployment);
      this.queue.add(key);
      for (const other of this.claims.update(key, deployment)) this.queue.add(other);
    };
    this.caches.deployments.on('add', onChange);
    this.caches.deployments.on('update', onChange);
    this.caches.deployments.on('delete', (deployment) => {
      const key = keyOf(deployment);
      this.events.forget(deployment.metadata?.uid ?? '');
      // Its children go with it (garbage collection); its reconcile removes what the namespace no longer needs.
      this.queue.add(key);
      for (const other of this.claims.update(key, undefined)) this.queue.add(other);
    });
  }

  /**
   * A ConfigMap created, edited or deleted re-queues the functions whose source it is: an image-built
   * function builds the new content at once rather than at the next resync.
   */
  private watchSources(cache: NonNullable<FunctionCaches['sources']>): void {
    const enqueueUsers = (configMap: V1ConfigMap): void => {
      const { namespace, name } = configMap.metadata ?? {};
      if (namespace === undefined || name === undefined) return;
      for (const deployment of sourceUsers(this.caches.deployments.list(namespace), name))
        this.queue.add(keyOf(deployment));
    };
    cache.on('add', enqueueUsers);
    cache.on('update', enqueueUsers);
    cache.on('delete', enqueueUsers);
  }

  /**
   * A build pod's change re-queues the function it builds: the Job's own status does not change when its pod
   * cannot be scheduled or a step cannot start, and the function should say so at once.
   */
  private watchBuildPods(cache: NonNullable<FunctionCaches['buildPods']>): void {
    const enqueueFunction = (pod: V1Pod): void => {
      const name = pod.metadata?.labels?.[BuildLabel.function];
      if (name !== undefined) this.queue.add(`${pod.metadata?.namespace ?? ''}/${name}`);
    };
    for (const verb of ['add', 'update', 'delete'] as const) cache.on(verb, enqueueFunction);
  }

  /** A change to a child (a hand edit or delete) re-queues the function that owns it. */
  private watchChildren(cache: Pick<FunctionCaches['children']['Service'], 'on'>): void {
    const enqueueOwner = (object: KubernetesObject): void => {
      const owner = object.metadata?.ownerReferences?.find(
        (ref) => ref.controller === true && ref.kind === 'Deployment',
      );
      if (owner !== undefined) this.queue.add(`${object.metadata?.namespace ?? ''}/${owner.name}`);
    };
    for (const verb of ['add', 'update', 'delete'] as const) cache.on(verb, enqueueOwner);
  }

  private startWorkers(): void {
    this.metrics.leader.set(1);
    const generation = ++this.generation;
    this.options.logger.info(
      { identity: this.options.identity, workers: this.options.workers },
      'reconciling',
    );
    this.resyncAll();
    this.resyncTimer = setInterval(() => this.resyncAll(), this.options.resyncMs);
    this.resyncTimer.unref();
    this.workers = Array.from({ length: this.options.workers }, () => this.work(generation));
    if (this.options.autoscaler !== false) this.autoscaler.start();
  }

  private stopWorkers(): void {
    this.metrics.leader.set(0);
    this.generation += 1;
    clearInterval(this.resyncTimer);
    void this.autoscaler.stop();
    this.options.logger.info({ identity: this.options.identity }, 'not leading; workers stop');
  }

  /**
   * Enqueues every function the cache knows: repairs whatever an event missed; and removes the event
   * consumers of functions deleted while no controller ran (only from synced caches, which list them all).
   */
  private resyncAll(): void {
    const deployments = this.caches.deployments.list();
    for (const deployment of deployments) this.queue.add(keyOf(deployment));
    this.metrics.queueDepth.set(this.queue.depth);
    if (this.consumers !== undefined && this.synced && this.elector.isLeader)
      this.consumers
        .sweep(() => this.caches.deployments.list().map(functionKeyOfDeployment))
        .catch((err: unknown) => {
          if (err instanceof NotLeadingError) return;
          this.metrics.errors.inc({ kind: 'reconcile' });
          this.options.logger.warn(
            { err },
            'sweep of event consumers failed; tried again at the next resync',
          );
        });
  }

  private async work(generation: number): Promise<void> {
    while (generation === this.generation) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (generation !== this.generation) {
        // Leadership moved while we waited: hand the key back for whoever leads next.
        this.queue.done(key);
        this.queue.add(key);
        return;
      }
      await this.process(key);
      this.metrics.queueDepth.set(this.queue.depth);
    }
  }

  private async process(key: string): Promise<void> {
    const end = this.metrics.reconcileDuration.startTimer();
    try {
      await this.reconciler.reconcile(key);
      this.queue.forget(key);
      end({ result: 'success' });
    } catch (error) {
      const [namespace, name] = key.split('/');
      if (error instanceof NotLeadingError) {
        // Leadership is gone (or in doubt): keep the key for when this replica leads again, write nothing.
        // Rate-limited, so a worker that has not yet been stopped does not spin on it.
        end({ result: 'skipped' });
        this.queue.addRateLimited(key);
        this.options.logger.info({ namespace, name }, error.message);
        return;
      }
      if (isNamespaceTerminating(error)) {
        // Its namespace is going, and the function with it: nothing to retry.
        end({ result: 'skipped' });
        this.queue.forget(key);
        this.options.logger.info({ namespace, name }, 'namespace is being deleted; function left alone');
        return;
      }
      end({ result: 'error' });
      this.metrics.errors.inc({ kind: 'reconcile' });
      this.metrics.retries.inc();
      const { delayMs, failures } = this.queue.addRateLimited(key);
      this.options.logger.warn(
        { namespace, name, failures, delayMs, err: describeApiError(error) },
        'reconcile failed; retrying',
      );
    } finally {
      this.queue.done(key);
    }
  }
}

function keyOf(deployment: V1Deployment): string {
  return `${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`;
}

/**
 * `namespace/function` of the function name the Deployment declares (its own name when that is unreadable):
 * whose event consumer it may have.
 */
function functionKeyOfDeployment(deployment: V1Deployment): string {
  const name = deployment.metadata?.name ?? '';
  const fn = declaredFunctionName({ annotations: deployment.metadata?.annotations, name }) ?? name;
  return `${deployment.metadata?.namespace ?? ''}/${fn}`;
}
