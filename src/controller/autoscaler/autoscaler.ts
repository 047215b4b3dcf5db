/**
 * The autoscaler: in the leading controller, about once a second, reads the ready pods of every HTTP
 * function that has pods (a sample of them when there are many), what the activator holds, and the backlog
 * of every event function's consumer; decides each function's replicas (scaling/decide.ts) and writes the
 * ones that changed to the Deployment's scale subresource. The I/O around the decision: read, decide, write.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ConsumerBacklog } from '../../bus/streams.js';
import { Label } from '../../contract/annotations.js';
import { consumerName } from '../../contract/event-bus.js';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { isFunction, parseFunctionSpec } from '../../contract/parse.js';
import { parseRuntimeStats, type RuntimeStats } from '../../contract/stats.js';
import { decideScale, initialState, type ScalerState } from '../../scaling/decide.js';
import { functionKeyOf, functionPod, type FunctionPod } from '../../scaling/pods.js';
import type { AutoscalerMetrics } from './metrics.js';
import { FunctionObservations, type PodRead } from './observations.js';
import type { StatsReader } from './stats-client.js';

/** The activator as the autoscaler needs it (activator-routes.ts). */
export interface ActivatorView {
  /** Requests held now, and received since the last call, per function key. */
  read(): Promise<Map<string, { held: number; requests: number }>>;
  /** Whether the activator is the function's route, confirmed: only then may its last pod go. */
  isRoute(key: string): boolean;
  /** Makes the activator the route of a function at zero or about to go there. */
  prepare(key: string, deployment: V1Deployment, spec: FunctionSpec): void;
  /** Makes the pods the route again, once they serve. */
  retire(key: string, deployment: V1Deployment, spec: FunctionSpec): Promise<void>;
  /** Removes the activator from the routes of functions the predicate no longer names. */
  sweep(tracked: (namespace: string, fn: string) => boolean): Promise<void>;
}

/** Without an activator a function never goes to zero: a request would find no one to hold it. */
export const NO_ACTIVATOR: ActivatorView = {
  read: async () => new Map(),
  isRoute: () => false,
  prepare: () => undefined,
  retire: async () => undefined,
  sweep: async () => undefined,
};

export interface AutoscalerOptions {
  deployments: () => readonly V1Deployment[];
  pods: () => readonly V1Pod[];
  /** Whether the function's Deployment owns its Service, i.e. its name: a name-taken loser is left alone. */
  ownsName: (deployment: V1Deployment, spec: FunctionSpec) => boolean;
  readStats: StatsReader;
  scale: (namespace: string, name: string, replicas: number) => Promise<void>;
  isLeading: () => boolean;
  activator: ActivatorView;
  /**
   * The backlogs of the named consumers, by name (bus/streams.ts), those that could not be read left out;
   * throws while the bus cannot be reached. Without it event functions are not scaled.
   */
  backlogs?: (consumers: readonly string[]) => Promise<ReadonlyMap<string, ConsumerBacklog>>;
  metrics: AutoscalerMetrics;
  logger: Logger;
  now?: () => number;
  /** Most pods read per function each tick; the rest are extrapolated. */
  sampleSize?: number;
  /** Most reads in flight at once. */
  parallelReads?: number;
}

/** Knative samples a revision's pods the same way (a fixed cap is simpler than its statistical size). */
export const DEFAULT_SAMPLE_SIZE = 16;
export const TICK_MS = 1000;

/** One function this tick: its Deployment, what the autoscaler remembers, and its ready pods. */
interface Observed {
  key: string;
  deployment: V1Deployment;
  tracked: Tracked;
  ready: FunctionPod[];
}

interface Tracked {
  spec: FunctionSpec;
  /** `namespace/function`, the pods' key. */
  key: string;
  /** The count last written, until the cache shows a newer Deployment. */
  written?: number;
  resourceVersion: string | undefined;
  observations: FunctionObservations;
  state: ScalerState;
  /** An event function whose backlog the last tick could not read. */
  backlogUnread?: boolean;
}

export class Autoscaler {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Each start's ticks carry its number, so a tick of an earlier start schedules nothing. */
  private generation = 0;
  /** Whether the last backlog read failed: its failure and recovery are logged once each. */
  private backlogsFailing = false;
  private readonly now: () => number;

  constructor(private readonly options: AutoscalerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts ticking; a new leader starts from nothing, so it scales nothing down for a stable window. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tracked.clear();
    this.schedule(0, ++this.generation);
  }

  /** Stops ticking and forgets every function; resolves when the tick in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    // Started again meanwhile (leadership came back): that start owns the state now.
    if (!this.stopped) return;
    this.tracked.clear();
    this.options.metrics.clear();
  }

  private schedule(delayMs: number, generation: number): void {
    if (this.stopped || generation !== this.generation) return;
    this.timer = setTimeout(() => {
      const started = this.now();
      this.running = this.tick().catch((err: unknown) =>
        this.options.logger.error({ err }, 'autoscaler tick failed'),
      );
      void this.running.then(() => this.schedule(Math.max(0, TICK_MS - (this.now() - started)), generation));
    }, delayMs);
    this.timer.unref();
  }

  /** One round: read everything, decide every function, write what changed. Exposed for tests. */
  async tick(): Promise<void> {
    if (!this.options.isLeading()) return;
    const now = this.now();
    const podsByFunction = groupPods(this.options.pods());
    const activator = await this.options.activator.read().catch((err: unknown) => {
      this.options.logger.warn({ err }, 'could not read the activator; held requests count as none');
      return new Map<string, { held: number; requests: number }>();
    });
    const seen = new Set<string>();
    const functions: Observed[] = [];
    for (const deployment of this.options.deployments()) {
      const tracked = this.track(deployment, now);
      if (tracked === undefined) continue;
      const key = tracked.key;
      seen.add(`${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`);
      const ready = (podsByFunction.get(key) ?? []).filter((pod) => pod.ready);
      functions.push({ key, deployment, tracked, ready });
    }
    for (const [key, tracked] of this.tracked) {
      if (!seen.has(key)) {
        this.tracked.delete(key);
        this.options.metrics.forget(tracked.spec.namespace, tracked.spec.name);
      }
    }
    // An event function's pods are not read: its consumer's backlog is its demand.
    const [backlogs, reads] = await Promise.all([
      this.readBacklogs(
        functions.flatMap(({ tracked: { spec } }) =>
          spec.events === undefined ? [] : [consumerName(spec.namespace, spec.name)],
        ),
      ),
      this.readAll(
        functions.map((f) =>
          f.tracked.spec.events === undefined
            ? sample(f.ready, this.options.sampleSize ?? DEFAULT_SAMPLE_SIZE)
            : [],
        ),
      ),
    ]);
    const writes: Promise<void>[] = [];
    functions.forEach((observed, i) =>
      writes.push(
        ...(observed.tracked.spec.events === undefined
          ? this.decide(observed, reads[i]!, activator.get(observed.key), now)
          : this.decideEvents(observed, backlogs, now)),
      ),
    );
    await Promise.all(writes);
    // A function still tracked leaves the activator's route through retire(), once its pods serve.
    const scalable = new Set(functions.map((f) => f.key));
    await this.options.activator
      .sweep((namespace, fn) => scalable.has(functionKeyOf(namespace, fn)))
      .catch((err: unknown) => this.options.logger.warn({ err }, 'could not sweep activator slices'));
  }

  /** Records one function's sample, decides, and returns its writes (scale, the activator's route). */
  private decide(
    { key, deployment, tracked, ready }: Observed,
    reads: PodRead[],
    fromActivatorOrNone: { held: number; requests: number } | undefined,
    now: number,
  ): Promise<void>[] {
    const writes: Promise<void>[] = [];
    const fromActivator = fromActivatorOrNone ?? { held: 0, requests: 0 };
    const { spec } = tracked;
    tracked.observations.record(
      now,
      ready.length,
      reads,
      fromActivator.held,
      fromActivator.requests,
      spec.scaling.stableWindowMs,
    );
    const replicas = tracked.written ?? deployment.spec?.replicas ?? 1;
    const decision = decideScale({
      scaling: spec.scaling,
      samples: tracked.observations.samples,
      replicas,
      readyReplicas: ready.length,
      now,
      state: tracked.state,
      zeroRouteReady: this.options.activator.isRoute(key),
    });
    tracked.state = decision.state;
    const labels = { namespace: spec.namespace, function: spec.name };
    const { metrics } = this.options;
    metrics.observedConcurrency.set(
      labels,
      tracked.observations.samples.at(-1)!.concurrency + fromActivator.held,
    );
    metrics.desiredReplicas.set(labels, decision.replicas);
    metrics.actualReplicas.set(labels, ready.length);
    metrics.panic.set(labels, decision.panic ? 1 : 0);
    metrics.heldRequests.set(labels, fromActivator.held);
    if (decision.zeroRoute) this.options.activator.prepare(key, deployment, spec);
    else if (ready.length > 0)
      writes.push(
        this.options.activator
          .retire(key, deployment, spec)
          .catch((err: unknown) =>
            this.options.logger.warn(
              { namespace: spec.namespace, function: spec.name, err },
              'could not take the activator out of the route',
            ),
          ),
      );
    if (decision.replicas !== replicas)
      writes.push(this.write(deployment, tracked, replicas, decision.replicas, decision.reason));
    return writes;
  }

  /**
   * Decides an event function from its consumer's backlog, as an HTTP function is decided from its requests
   * in flight, with `event-concurrency` as each pod's target. A backlog that could not be read (the bus is
   * unreachable, the consumer has no leader or does not exist yet) decides nothing: the function keeps its
   * replicas rather than go to zero on a number nobody measured. No activator: events wait in the stream.
   */
  private decideEvents(
    { deployment, tracked, ready }: Observed,
    backlogs: ReadonlyMap<string, ConsumerBacklog> | undefined,
    now: number,
  ): Promise<void>[] {
    const { spec } = tracked;
    const backlog = backlogs?.get(consumerName(spec.namespace, spec.name));
    if (backlogs !== undefined) this.noteBacklogRead(tracked, backlog !== undefined);
    if (backlog === undefined || spec.events === undefined) return [];
    tracked.observations.recordBacklog(now, backlog, spec.scaling.stableWindowMs);
    const replicas = tracked.written ?? deployment.spec?.replicas ?? 1;
    const decision = decideScale({
      scaling: { ...spec.scaling, targetConcurrency: spec.events.concurrency },
      samples: tracked.observations.samples,
      replicas,
      readyReplicas: ready.length,
      now,
      state: tracked.state,
      zeroRouteReady: true,
      demand: 'events in backlog',
    });
    tracked.state = decision.state;
    const labels = { namespace: spec.namespace, function: spec.name };
    const { metrics } = this.options;
    metrics.eventBacklog.set(labels, backlog.pending + backlog.ackPending);
    metrics.desiredReplicas.set(labels, decision.replicas);
    metrics.actualReplicas.set(labels, ready.length);
    metrics.panic.set(labels, decision.panic ? 1 : 0);
    return decision.replicas === replicas
      ? []
      : [this.write(deployment, tracked, replicas, decision.replicas, decision.reason)];
  }

  /** Logs once when a function's backlog cannot be read although the bus answers, and once when it can again. */
  private noteBacklogRead(tracked: Tracked, read: boolean): void {
    if ((tracked.backlogUnread ?? false) === !read) return;
    tracked.backlogUnread = !read;
    const fields = { namespace: tracked.spec.namespace, function: tracked.spec.name };
    if (read) this.options.logger.info(fields, 'event backlog read again; the function scales');
    else
      this.options.logger.warn(
        fields,
        'could not read the event backlog (no consumer, no leader, or no answer in time); the function keeps its replicas',
      );
  }

  /** The event functions' backlogs this tick; undefined when there is no bus or it could not be read. */
  private async readBacklogs(consumers: string[]): Promise<ReadonlyMap<string, ConsumerBacklog> | undefined> {
    if (this.options.backlogs === undefined || consumers.length === 0) return undefined;
    try {
      const backlogs = await this.options.backlogs(consumers);
      if (this.backlogsFailing) this.options.logger.info('event backlogs read again; event functions scale');
      this.backlogsFailing = false;
      return backlogs;
    } catch (err) {
      if (!this.backlogsFailing)
        this.options.logger.warn(
          { err },
          'could not read the event backlogs; event functions keep their replicas until they can be read',
        );
      this.backlogsFailing = true;
      return undefined;
    }
  }

  /** The function's tracking, parsed again only when its Deployment changed; undefined for a non-function. */
  private track(deployment: V1Deployment, now: number): Tracked | undefined {
    const metadata = deployment.metadata;
    if (!isFunction(metadata?.annotations) || metadata?.deletionTimestamp != null) return undefined;
    const namespace = metadata?.namespace ?? '';
    const deploymentKey = `${namespace}/${metadata?.name ?? ''}`;
    let tracked = this.tracked.get(deploymentKey);
    if (tracked === undefined || tracked.resourceVersion !== metadata?.resourceVersion) {
      const parsed = parseFunctionSpec({
        annotations: metadata?.annotations,
        name: metadata?.name ?? '',
        namespace,
      });
      if (!parsed.ok || !this.options.ownsName(deployment, parsed.spec)) {
        this.tracked.delete(deploymentKey);
        return undefined;
      }
      tracked ??= {
        spec: parsed.spec,
        key: '',
        resourceVersion: undefined,
        observations: new FunctionObservations(),
        state: initialState(now, deployment.spec?.replicas ?? 1),
      };
      tracked.spec = parsed.spec;
      // The pods carry the function's name, which need not be the Deployment's.
      tracked.key = functionKeyOf(namespace, parsed.spec.name);
      tracked.resourceVersion = metadata?.resourceVersion;
      // A newer Deployment has the count this autoscaler wrote, or a later one.
      delete tracked.written;
      this.tracked.set(deploymentKey, tracked);
    }
    return tracked;
  }

  /** Reads every sampled pod, at most `parallelReads` at a time; a pod that fails is left out. */
  private async readAll(samples: FunctionPod[][]): Promise<PodRead[][]> {
    const jobs = samples.flatMap((pods, i) => pods.map((pod) => ({ i, pod })));
    const results: PodRead[][] = samples.map(() => []);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const { i, pod } = jobs[next++]!;
        results[i]!.push({ uid: pod.uid, stats: await this.readPod(pod) });
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.parallelReads ?? 64, jobs.length) }, worker),
    );
    return results;
  }

  private async readPod(pod: FunctionPod): Promise<RuntimeStats | undefined> {
    try {
      const stats = parseRuntimeStats(await this.options.readStats(pod.ip, pod.adminPort));
      if (stats instanceof Error) throw stats;
      return stats;
    } catch (err) {
      this.options.logger.debug({ namespace: pod.namespace, pod: pod.name, err }, 'could not read pod stats');
      return undefined;
    }
  }

  private async write(
    deployment: V1Deployment,
    tracked: Tracked,
    from: number,
    to: number,
    reason: string,
  ): Promise<void> {
    const namespace = deployment.metadata?.namespace ?? '';
    const name = deployment.metadata?.name ?? '';
    if (!this.options.isLeading()) return;
    try {
      await this.options.scale(namespace, name, to);
      // The cache sees the new count with the Deployment's next watch event; until then, decide from it.
      tracked.written = to;
      this.options.logger.info({ namespace, name, function: tracked.spec.name, from, to, reason }, 'scaled');
    } catch (err) {
      this.options.logger.warn({ namespace, name, from, to, err }, 'could not scale; trying again next tick');
    }
  }
}

/** The function pods by `namespace/function`. */
function groupPods(pods: readonly V1Pod[]): Map<string, FunctionPod[]> {
  const grouped = new Map<string, FunctionPod[]>();
  for (const pod of pods) {
    if (pod.metadata?.labels?.[Label.function] === undefined) continue;
    const read = functionPod(pod);
    if (read === undefined) continue;
    const key = functionKeyOf(read.namespace, read.function);
    const list = grouped.get(key);
    if (list === undefined) grouped.set(key, [read]);
    else list.push(read);
  }
  return grouped;
}

/** Up to `size` of the pods, chosen at random so that every pod is read now and then. */
function sample(pods: FunctionPod[], size: number): FunctionPod[] {
  if (pods.length <= size) return pods;
  const copy = [...pods];
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, size);
}
