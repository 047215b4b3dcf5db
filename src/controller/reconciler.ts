import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { applyObject, deleteIfExists, mergePatch, type Kube } from '../kube/client.js';
import { declaredFunctionName, parseFunctionSpec, type ParseResult } from '../contract/parse.js';
import type { FunctionBuilds } from './builds.js';
import { consumerIntents } from './consumer-intent.js';
import type { EventConsumers } from './event-consumers.js';
import type { ClaimTracker } from './claims.js';
import type { EventRecorder } from './events.js';
import type { NamespaceTransports } from './namespace-transports.js';
import { childNames } from './desired/route.js';
import { CHILD_API_VERSIONS, type FunctionCaches } from './informers.js';
import {
  CHILD_KINDS,
  planFunction,
  type ChildAction,
  type ClaimState,
  type ObservedChildren,
  type ReconcilePlan,
} from './plan.js';

export interface ReconcilerDeps {
  kube: Kube;
  caches: FunctionCaches;
  claims: ClaimTracker;
  events: EventRecorder;
  logger: Logger;
  /**
   * Asked right before every write: false once this replica may no longer lead (its Lease renewal is past
   * the renew deadline), so a replica that was frozen and resumes writes nothing from stale caches.
   */
  isLeading: () => boolean;
  /** The namespaces' ServersTransport, which every function route names. */
  transports: NamespaceTransports;
  /** Image builds, when Cloudbase has a registry. */
  builds?: FunctionBuilds;
  /** Event functions' consumers, when Cloudbase has an event bus. */
  consumers?: EventConsumers;
}

/** A write skipped because this replica is not (or no longer surely) the leader. */
export class NotLeadingError extends Error {
  constructor(what: string) {
    super(`not the leader: ${what} skipped`);
    this.name = 'NotLeadingError';
  }
}

/**
 * Reconciles one function by level: re-reads its Deployment and children from the caches, plans with pure
 * functions, and writes only what drifted. Throws on a failed write so the queue retries with backoff.
 */
export class Reconciler {
  /** `namespace/deployment` → the function name it declared at its last reconcile: whose consumer it had. */
  private readonly functionNames = new Map<string, string>();

  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcilePlan | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const deployment = this.deps.caches.deployments.get(name, namespace);
    // Deleted, or being deleted: Kubernetes' garbage collector removes the children through their owner
    // references; writing them again would race it (a foreground deletion would never finish).
    if (deployment === undefined || deployment.metadata?.deletionTimestamp != null) {
      const inUse = this.deps.caches.deployments
        .list(namespace)
        .some((other) => other.metadata?.deletionTimestamp == null);
      if (!inUse) this.assertLeading(`clean-up of namespace ${namespace}`);
      await this.deps.transports.removeUnless(namespace, inUse);
      await this.reconcileConsumers(key, undefined, deployment);
      return undefined;
    }
    const claim = this.deps.claims.table.get(key);
    const names = claim === undefined ? [] : childNames(claim.spec);
    const uid = deployment.metadata?.uid ?? '';
    const observed = this.observe(namespace, uid, new Set(names));
    const plan = planFunction(deployment, observed, this.claimState(key));
    // The route names the namespace's transport: it exists before the route is written, and stays while one is.
    const routed =
      plan.actions.some((a) => a.action === 'apply' && a.kind === 'IngressRoute') ||
      (observed.IngressRoute ?? []).some(
        (route) =>
          route.metadata?.ownerReferences?.some((ref) => ref.uid === uid) === true &&
          !plan.actions.some((a) => a.action === 'delete' && a.ref.kind === 'IngressRoute'),
      );
    if (routed) {
      this.assertLeading(`the servers transport of namespace ${namespace}`);
      await this.deps.transports.ensure(namespace);
    }
    await this.execute(deployment, plan);
    const { builds, consumers } = this.deps;
    if (builds === undefined && consumers === undefined) return plan;
    const parsed = parseFunctionSpec({ annotations: deployment.metadata?.annotations, name, namespace });
    if (parsed.ok) await builds?.reconcile(deployment, parsed.spec);
    await this.reconcileConsumers(key, parsed, deployment);
    return plan;
  }

  /**
   * The event consumers this function writes (consumer-intent.ts). `parsed` undefined: the Deployment is
   * deleted or being deleted; its function name is the one last reconciled, else what it still declares.
   */
  private async reconcileConsumers(
    key: string,
    parsed: ParseResult | undefined,
    deployment: V1Deployment | undefined,
  ): Promise<void> {
    const { consumers } = this.deps;
    if (consumers === undefined) return;
    const [namespace = '', name = ''] = key.split('/');
    const previousName =
      this.functionNames.get(key) ??
      (parsed === undefined
        ? (declaredFunctionName({ annotations: deployment?.metadata?.annotations, name }) ?? name)
        : undefined);
    const intents = consumerIntents({
      namespace,
      parsed,
      ownership: this.claimState(key)?.ownership.kind,
      previousName,
      declaredByOthers: (fn) =>
        this.deps.caches.deployments.list(namespace).some(
          (other) =>
            other.metadata?.name !== name &&
            other.metadata?.deletionTimestamp == null &&
            declaredFunctionName({
              annotations: other.metadata?.annotations,
              name: other.metadata?.name ?? '',
            }) === fn,
        ),
    });
    for (const intent of intents) await consumers.reconcile(intent);
    if (parsed === undefined) this.functionNames.delete(key);
    else if (parsed.ok) this.functionNames.set(key, parsed.spec.name);
  }

  /** What the route table decided for the function; undefined when it is not in the table (not valid). */
  private claimState(key: string): ClaimState | undefined {
    const claim = this.deps.claims.table.get(key);
    const recorded = this.deps.claims.recorded(key);
    if (claim === undefined || recorded === undefined) return undefined;
    return { ownership: this.deps.claims.table.decide(claim), claimedAt: claim.claimedAt, recorded };
  }

  /**
   * The children this function may have: those it owns and those named as its children would be. Only these
   * are copied, so a reconcile does not copy every child in a namespace of a thousand functions.
   */
  private observe(namespace: string, uid: string, names: ReadonlySet<string>): ObservedChildren {
    const observed: ObservedChildren = {};
    for (const kind of CHILD_KINDS) {
      observed[kind] = this.deps.caches.children[kind]
        .list(namespace)
        .filter(
          (object) =>
            names.has(object.metadata?.name ?? '') ||
            (object.metadata?.ownerReferences?.some((ref) => ref.uid === uid) ?? false),
        )
        // Objects from a list carry no kind; the cache they come from says what they are.
        .map((object) => ({ ...object, kind }));
    }
    return observed;
  }

  private async execute(deployment: V1Deployment, plan: ReconcilePlan): Promise<void> {
    const context = {
      namespace: deployment.metadata?.namespace,
      name: deployment.metadata?.name,
      uid: deployment.metadata?.uid,
    };
    // Writes that do not depend on each other go out together: a reconcile costs a few round trips, not one
    // per child, which is what lets a thousand functions be routed within a minute.
    for (const stage of writeStages(plan.actions)) {
      this.assertLeading(`writes of ${context.namespace}/${context.name}`);
      await Promise.all(stage.map((action) => this.write(action, context)));
    }
    this.assertLeading(`status and events of ${context.namespace}/${context.name}`);
    const finishing: Promise<unknown>[] = plan.events.map((event) =>
      this.deps.events.record(deployment, event),
    );
    if (Object.keys(plan.status).length > 0) {
      const patch: KubernetesObject = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        // Not guarded by resourceVersion: the Deployment controller updates status right after every create,
        // so a guard would mostly conflict; a value from an older version is corrected by the next reconcile.
        metadata: {
          name: context.name,
          namespace: context.namespace,
          annotations: plan.status as Record<string, string>,
        },
      };
      finishing.push(mergePatch(this.deps.kube, patch));
    }
    await Promise.all(finishing);
  }

  private assertLeading(what: string): void {
    if (!this.deps.isLeading()) throw new NotLeadingError(what);
  }

  private async write(action: ChildAction, context: Record<string, string | undefined>): Promise<void> {
    const { kube, logger } = this.deps;
    if (action.action === 'apply') {
      await applyObject(kube, action.object);
      logger.info({ ...context, kind: action.kind, child: action.object.metadata?.name }, 'child applied');
      return;
    }
    const { kind, namespace, name } = action.ref;
    await deleteIfExists(kube, { apiVersion: CHILD_API_VERSIONS[kind], kind, metadata: { name, namespace } });
    logger.info({ ...context, kind, child: name }, 'child deleted');
  }
}

/**
 * The writes in dependency order: the Service and Middleware a route uses, then the IngressRoute; deletes
 * take the route away before the middleware it names.
 */
export function writeStages(actions: readonly ChildAction[]): ChildAction[][] {
  const applies = actions.filter((a) => a.action === 'apply');
  const deletes = actions.filter((a) => a.action === 'delete');
  const isRoute = (a: ChildAction): boolean =>
    (a.action === 'apply' ? a.kind : a.ref.kind) === 'IngressRoute';
  const stages = [
    applies.filter((a) => !isRoute(a)),
    applies.filter(isRoute),
    deletes.filter(isRoute),
    deletes.filter((a) => !isRoute(a)),
  ];
  return stages.filter((stage) => stage.length > 0);
}
