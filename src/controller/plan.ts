import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { StatusAnnotation } from '../contract/annotations.js';
import { formatErrors, isFunction, parseFunctionSpec } from '../contract/parse.js';
import type { FunctionSpec } from '../contract/function-spec.js';
import { isSubset } from '../kube/subset.js';
import { routeHolder, type RouteClaim } from './desired/conflicts.js';
import type { FunctionOwner } from './desired/owner.js';
import { functionUrl } from '../contract/url.js';
import { desiredIngressRoute, desiredStripPrefix } from './desired/route.js';
import { desiredService } from './desired/service.js';

/** The kinds of children a function has, in the order they are written (a route only after its backend). */
export const CHILD_KINDS = ['Service', 'Middleware', 'IngressRoute'] as const;
export type ChildKind = (typeof CHILD_KINDS)[number];

export interface ChildRef {
  kind: ChildKind;
  namespace: string;
  name: string;
}

/** The children that exist now, as the caches see them, by kind and name. */
export type ObservedChildren = Partial<Record<ChildKind, KubernetesObject[]>>;

export type ChildAction =
  { action: 'apply'; kind: ChildKind; object: KubernetesObject } | { action: 'delete'; ref: ChildRef };

export interface FunctionEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ReconcilePlan {
  actions: ChildAction[];
  events: FunctionEvent[];
  /** The `cloudbase.dev/url` annotation to write; null removes it; undefined leaves it as it is. */
  url: string | null | undefined;
}

/**
 * What to do for one Deployment, given the children that exist and every function's route claim: the pure
 * heart of the reconcile. Children are applied only when they drifted from what is desired.
 */
export function planFunction(
  deployment: V1Deployment,
  observed: ObservedChildren,
  claims: readonly RouteClaim[],
): ReconcilePlan {
  const owner = ownerOf(deployment);
  const annotations = deployment.metadata?.annotations;
  const ours = ownedBy(observed, owner.uid);
  if (!isFunction(annotations)) {
    // The opt-in was removed: the Deployment stays, its children and our status go.
    return {
      actions: ours.map((object) => deleteAction(object)),
      events: [],
      url: annotations?.[StatusAnnotation.url] === undefined ? undefined : null,
    };
  }
  const parsed = parseFunctionSpec({ annotations, name: owner.name, namespace: owner.namespace });
  if (!parsed.ok) {
    // Admission normally refuses this; keep serving what exists rather than tear routes down on a bad edit.
    return {
      actions: [],
      events: [{ type: 'Warning', reason: 'InvalidFunction', message: formatErrors(parsed.errors) }],
      url: undefined,
    };
  }
  const spec = parsed.spec;
  const holder = routeHolder(
    { key: `${owner.namespace}/${owner.name}`, spec, createdAt: createdAt(deployment) },
    claims,
  );
  const desired: KubernetesObject[] = [desiredService(spec, owner)];
  const events: FunctionEvent[] = [];
  if (holder === undefined) {
    const middleware = desiredStripPrefix(spec, owner);
    if (middleware !== undefined) desired.push(middleware.toJSON() as KubernetesObject);
    desired.push(desiredIngressRoute(spec, owner).toJSON() as KubernetesObject);
  } else {
    events.push({ type: 'Warning', reason: 'RouteConflict', message: conflictMessage(spec, holder) });
  }
  const actions = [...applyActions(desired, observed, owner, events), ...staleDeletes(desired, ours)];
  const url = holder === undefined ? functionUrl(spec) : null;
  const currentUrl = annotations?.[StatusAnnotation.url];
  if (actions.some((a) => a.action === 'apply' && a.kind === 'IngressRoute')) {
    events.push({
      type: 'Normal',
      reason: 'RouteReady',
      message: `Traefik routes ${describeRoute(spec)} to Service ${spec.name}`,
    });
  }
  return { actions, events, url: url === (currentUrl ?? null) ? undefined : url };
}

function applyActions(
  desired: KubernetesObject[],
  observed: ObservedChildren,
  owner: FunctionOwner,
  events: FunctionEvent[],
): ChildAction[] {
  const actions: ChildAction[] = [];
  for (const object of desired) {
    const kind = object.kind as ChildKind;
    const actual = observed[kind]?.find((o) => o.metadata?.name === object.metadata?.name);
    const actualOwner = actual?.metadata?.ownerReferences?.find((ref) => ref.controller === true);
    if (actual !== undefined && actualOwner !== undefined && actualOwner.uid !== owner.uid) {
      events.push({
        type: 'Warning',
        reason: 'NameConflict',
        message: `${kind} ${owner.namespace}/${object.metadata?.name} belongs to ${actualOwner.kind} ${actualOwner.name}; give this function another name with cloudbase.dev/function`,
      });
      continue;
    }
    if (actual === undefined || hasDrifted(object, actual, owner.uid))
      actions.push({ action: 'apply', kind, object });
  }
  return actions;
}

/** Drift: a desired label or spec field differs, or our owner reference is gone. Defaults the API server added are not drift. */
export function hasDrifted(desired: KubernetesObject, actual: KubernetesObject, ownerUid: string): boolean {
  const owned = actual.metadata?.ownerReferences?.some((ref) => ref.uid === ownerUid) ?? false;
  const wanted = {
    metadata: { labels: desired.metadata?.labels },
    spec: (desired as { spec?: unknown }).spec,
  };
  return !owned || !isSubset(wanted, actual);
}

/** Our children that are no longer desired (a route lost to a conflict, a strip-prefix middleware for `/`). */
function staleDeletes(desired: KubernetesObject[], ours: KubernetesObject[]): ChildAction[] {
  const keep = new Set(desired.map((o) => `${o.kind}/${o.metadata?.name}`));
  return ours.filter((o) => !keep.has(`${o.kind}/${o.metadata?.name}`)).map((o) => deleteAction(o));
}

function ownedBy(observed: ObservedChildren, uid: string): KubernetesObject[] {
  return CHILD_KINDS.flatMap((kind) =>
    (observed[kind] ?? [])
      .filter((o) => o.metadata?.ownerReferences?.some((ref) => ref.uid === uid && ref.controller === true))
      .map((o) => ({ ...o, kind })),
  );
}

function deleteAction(object: KubernetesObject): ChildAction {
  return {
    action: 'delete',
    ref: {
      kind: object.kind as ChildKind,
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
    },
  };
}

export function ownerOf(deployment: V1Deployment): FunctionOwner {
  return {
    name: deployment.metadata?.name ?? '',
    namespace: deployment.metadata?.namespace ?? '',
    uid: deployment.metadata?.uid ?? '',
  };
}

export function createdAt(deployment: V1Deployment): Date {
  const stamp = deployment.metadata?.creationTimestamp;
  return stamp === undefined ? new Date(0) : new Date(stamp);
}

function describeRoute(spec: FunctionSpec): string {
  const host = spec.route.host === undefined ? 'any host' : spec.route.host;
  return `${spec.route.pathPrefix} on ${host} (entrypoints ${spec.route.entrypoints.join(', ')})`;
}

function conflictMessage(spec: FunctionSpec, holder: RouteClaim): string {
  return `route ${describeRoute(spec)} is held by function ${holder.key}, which claimed it first; change cloudbase.dev/route or cloudbase.dev/host`;
}
