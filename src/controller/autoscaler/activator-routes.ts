/**
 * Makes the activator a function's route before its last pod goes, and its pods the route again once one
 * serves: a second EndpointSlice of the function's Service lists the activator pods (desired/activator-slice.ts).
 * Knative's serverless service does the same with Endpoints ("proxy" and "serve" modes); a slice rather than
 * an IngressRoute change, because Traefik rebuilds its whole configuration on every route change and its
 * provider throttles, while Kubernetes' EndpointSlice controller goes on managing the pods' own slice.
 *
 * "The route" means confirmed: every Traefik replica's API lists the activator's servers for the function's
 * service. Also reads the activator pods' `/stats` for the autoscaler.
 */
import type { V1Deployment, V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { hasRoute, type FunctionSpec } from '../../contract/function-spec.js';
import { parseActivatorStats, type ActivatorStats } from '../../contract/stats.js';
import { applyObject, deleteIfExists, type Kube } from '../../kube/client.js';
import { ownerOf } from '../plan.js';
import {
  activatorSliceName,
  desiredActivatorSlice,
  SERVICE_NAME_LABEL,
  SLICE_MANAGED_BY_LABEL,
  SLICE_MANAGER,
  type ActivatorEndpoint,
} from '../desired/activator-slice.js';
import { traefikServiceName } from '../desired/route.js';
import type { ActivatorView } from './autoscaler.js';
import type { StatsReader } from './stats-client.js';

/** Where Traefik's API is: the ready endpoints of a Service port (`namespace/service:port-name`). */
export interface ServicePortRef {
  namespace: string;
  service: string;
  port: string;
}

export function parseServicePortRef(value: string): ServicePortRef | Error {
  const match = /^([a-z0-9-]+)\/([a-z0-9-]+):([a-z0-9-]+)$/.exec(value);
  if (match === null) return new Error(`"${value}" is not <namespace>/<service>:<port name>`);
  return { namespace: match[1]!, service: match[2]!, port: match[3]! };
}

export interface ActivatorRoutesOptions {
  kube: Kube;
  logger: Logger;
  readStats: StatsReader;
  /** The activator pods now (ready endpoints of its Service). */
  activators: () => ActivatorEndpoint[];
  /** The EndpointSlices Cloudbase manages, as the cache has them. */
  slices: () => readonly V1EndpointSlice[];
  /** One of them by namespace and name, from the same cache. */
  slice: (namespace: string, name: string) => V1EndpointSlice | undefined;
  /** Traefik's API; undefined: no confirmation is possible, and no function goes to zero. */
  traefikApi: ServicePortRef | undefined;
  /** GET a JSON document over the pod network (Traefik's API). */
  getJson: (url: string) => Promise<unknown>;
}

interface RouteState {
  /** The function, as last prepared: re-applied when the activator pods change. */
  deployment?: V1Deployment;
  spec?: FunctionSpec;
  /** The activator endpoints last applied, as a signature. */
  applied?: string;
  applying?: Promise<void>;
  confirmedFor?: string;
  confirming?: boolean;
}

const signature = (endpoints: readonly ActivatorEndpoint[]): string =>
  endpoints
    .map((e) => `${e.ip}:${e.httpPort}`)
    .sort()
    .join(',');

export class ActivatorRoutes implements ActivatorView {
  private readonly routes = new Map<string, RouteState>();
  /** Cumulative requests per activator pod and function at the last read, for differences. */
  private readonly lastRequests = new Map<string, number>();

  constructor(private readonly options: ActivatorRoutesOptions) {}

  async read(): Promise<Map<string, { held: number; requests: number }>> {
    const totals = new Map<string, { held: number; requests: number }>();
    const seen = new Set<string>();
    await Promise.all(
      this.options.activators().map(async (endpoint) => {
        let stats: ActivatorStats | Error;
        try {
          stats = parseActivatorStats(await this.options.readStats(endpoint.ip, endpoint.adminPort));
        } catch (err) {
          stats = err instanceof Error ? err : new Error(String(err));
        }
        if (stats instanceof Error) {
          this.options.logger.debug({ activator: endpoint.ip, err: stats }, 'could not read activator stats');
          return;
        }
        for (const [key, counts] of Object.entries(stats.functions)) {
          const id = `${endpoint.ip}|${key}`;
          seen.add(id);
          const before = this.lastRequests.get(id);
          this.lastRequests.set(id, counts.requests);
          const total = totals.get(key) ?? { held: 0, requests: 0 };
          total.held += counts.held;
          // A first read counts what is held, not the history before it.
          total.requests += before === undefined || before > counts.requests ? 0 : counts.requests - before;
          totals.set(key, total);
        }
      }),
    );
    for (const id of this.lastRequests.keys()) if (!seen.has(id)) this.lastRequests.delete(id);
    return totals;
  }

  isRoute(key: string): boolean {
    const state = this.routes.get(key);
    const now = signature(this.options.activators());
    return now !== '' && state?.applied === now && state.confirmedFor === now;
  }

  prepare(key: string, deployment: V1Deployment, spec: FunctionSpec): void {
    const endpoints = this.options.activators();
    const wanted = signature(endpoints);
    if (wanted === '') return;
    const state = this.routes.get(key) ?? {};
    this.routes.set(key, state);
    state.deployment = deployment;
    state.spec = spec;
    if (state.applying !== undefined) return;
    if (state.applied !== wanted) {
      state.applying = applyObject(
        this.options.kube,
        desiredActivatorSlice(spec, ownerOf(deployment), endpoints),
      )
        .then(() => {
          state.applied = wanted;
          this.options.logger.info(
            { namespace: spec.namespace, function: spec.name, activators: endpoints.length },
            'activator is the route, pending confirmation through Traefik',
          );
        })
        .catch((err: unknown) =>
          this.options.logger.warn(
            { namespace: spec.namespace, function: spec.name, err },
            'could not apply the activator slice',
          ),
        )
        .finally(() => delete state.applying);
      return;
    }
    if (state.confirmedFor !== wanted && state.confirming !== true) {
      state.confirming = true;
      this.confirm(spec, endpoints)
        .then((confirmed) => {
          if (confirmed) state.confirmedFor = wanted;
        })
        .catch((err: unknown) =>
          this.options.logger.debug(
            { namespace: spec.namespace, function: spec.name, err },
            'Traefik not confirmed yet',
          ),
        )
        .finally(() => (state.confirming = false));
    }
  }

  /**
   * The activator pods changed (one crashed, a rollout replaced one): every function whose route is the
   * activator gets the new list at once, not at the next tick, so proxies stop sending to a pod that is gone.
   */
  activatorsChanged(): void {
    for (const [key, state] of this.routes)
      if (state.deployment !== undefined && state.spec !== undefined)
        this.prepare(key, state.deployment, state.spec);
  }

  /**
   * Takes the activator out of the function's route once its pods' own EndpointSlice has a serving endpoint:
   * Traefik reads both slices from one watch, in order, so it never sees the function with neither.
   */
  async retire(key: string, deployment: V1Deployment, spec: FunctionSpec): Promise<void> {
    const exists = this.options.slice(spec.namespace, activatorSliceName(spec)) !== undefined;
    if (!exists && this.routes.get(key)?.applied === undefined) {
      this.routes.delete(key);
      return;
    }
    const slices = await this.options.kube.discovery.listNamespacedEndpointSlice({
      namespace: spec.namespace,
      labelSelector: `${SERVICE_NAME_LABEL}=${spec.name},${SLICE_MANAGED_BY_LABEL}!=${SLICE_MANAGER}`,
    });
    const serving = slices.items.some((slice) =>
      (slice.endpoints ?? []).some((e) => e.conditions?.ready === true),
    );
    if (!serving) return;
    await deleteIfExists(this.options.kube, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: spec.namespace, name: activatorSliceName(spec) },
    });
    this.routes.delete(key);
    this.options.logger.info(
      { namespace: spec.namespace, name: deployment.metadata?.name, function: spec.name },
      'pods are the route again',
    );
  }

  /** Deletes activator slices of functions no longer tracked (deleted, opted out, min-scale raised). */
  async sweep(tracked: (namespace: string, fn: string) => boolean): Promise<void> {
    for (const slice of this.options.slices()) {
      const namespace = slice.metadata?.namespace ?? '';
      const fn = slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? '';
      if (tracked(namespace, fn)) continue;
      await deleteIfExists(this.options.kube, slice);
      this.routes.delete(`${namespace}/${fn}`);
    }
  }

  /** Every Traefik replica lists every activator endpoint among the function service's servers. */
  private async confirm(spec: FunctionSpec, endpoints: readonly ActivatorEndpoint[]): Promise<boolean> {
    const api = this.options.traefikApi;
    if (api === undefined || !hasRoute(spec)) return false;
    const slices = await this.options.kube.discovery.listNamespacedEndpointSlice({
      namespace: api.namespace,
      labelSelector: `${SERVICE_NAME_LABEL}=${api.service}`,
    });
    const replicas = slices.items.flatMap((slice) => {
      const port = slice.ports?.find((p) => p.name === api.port)?.port;
      if (port === undefined) return [];
      return (slice.endpoints ?? [])
        .filter((e) => e.conditions?.ready === true)
        .flatMap((e) => e.addresses.map((ip) => `http://${ip}:${port}`));
    });
    if (replicas.length === 0) return false;
    const service = traefikServiceName(spec);
    const wanted = endpoints.map((e) => `http://${e.ip}:${e.httpPort}`);
    for (const replica of replicas) {
      const answer = (await this.options.getJson(`${replica}/api/http/services/${service}`)) as {
        loadBalancer?: { servers?: { url?: string }[] };
      };
      const urls = new Set(answer.loadBalancer?.servers?.map((s) => s.url) ?? []);
      if (!wanted.every((url) => urls.has(url))) return false;
    }
    return true;
  }
}
