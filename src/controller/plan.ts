import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { StatusAnnotation } from '../contract/annotations.js';
import { hasRoute } from '../contract/function-spec.js';
import { formatErrors, isFunction, parseFunctionSpec } from '../contract/parse.js';
import { isSubset } from '../kube/subset.js';
import type { FunctionOwner } from './desired/owner.js';
import { functionUrl } from '../contract/url.js';
import { formatClaim, type RecordedClaim } from '../routing/claim.js';
import { describeRoute, ownershipProblem } from '../routing/messages.js';
import type { Ownership } from '../routing/ownership.js';
import {
  desiredFunctionHeaders,
  desiredIngressRoute,
  desiredRetry,
  desiredStripPrefix,
} from './desired/route.js';
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
  /**
   * Status annotations to merge-patch onto the Deployment (`cloudbase.dev/url`, `cloudbase.dev/claim`);
   * null removes one. Empty: nothing to write.
   */
  status: Record<string, string | null>;
}

/** The function's place in the route table: what it owns, and its claim as the Deployment records it. */
export interface ClaimState {
  ownership: Ownership;
  claimedAt: number;
  recorded: RecordedClaim;
}

/**
 * What to do for one Deployment, given the children that exist and what route ownership decided for it:
 * the pure heart of the reconcile. Children are applied only when they drifted from what is desired.
 */
export function planFunction(
  deployment: V1Deployment,
  observed: ObservedChildren,
  claim: ClaimState = OWNER_WITH_RECORD,
): ReconcilePlan {
  const owner = ownerOf(deployment);
  const annotations = deployment.metadata?.annotations;
  const ours = ownedBy(observed, owner.uid);
  if (!isFunction(annotations)) {
    // The opt-in was removed: the Deployment stays, its children and our status go.
    const status: Record<string, null> = {};
    for (const key of [StatusAnnotation.url, StatusAnnotation.claim])
      if (annotations?.[key] !== undefined) status[key] = null;
    return { actions: ours.map((object) => deleteAction(object)), events: [], status };
  }
  const parsed = parseFunctionSpec({ annotations, name: owner.name, namespace: owner.namespace });
  if (!parsed.ok) {
    // Admission normally refuses this; keep serving what exists rather than tear routes down on a bad edit.
    return {
      actions: [],
      events: [{ type: 'Warning', reason: 'InvalidFunction', message: formatErrors(parsed.errors) }],
      status: {},
    };
  }
  const spec = parsed.spec;
  const { ownership } = claim;
  const events: FunctionEvent[] = [];
  const problem = ownershipProblem(spec, ownership);
  if (problem !== undefined && ownership.kind !== 'owner')
    events.push({ type: 'Warning', reason: WARNING_REASONS[ownership.kind], message: problem });
  // A function whose name another Deployment holds gets nothing: its Service would select the holder's pods.
  const desired: KubernetesObject[] = ownership.kind === 'name-taken' ? [] : [desiredService(spec, owner)];
  if (ownership.kind === 'owner' && hasRoute(spec)) {
    desired.push(desiredRetry(spec, owner).toJSON() as KubernetesObject);
    desired.push(desiredFunctionHeaders(spec, owner).toJSON() as KubernetesObject);
    const middleware = desiredStripPrefix(spec, owner);
    if (middleware !== undefined) desired.push(middleware.toJSON() as KubernetesObject);
    desired.push(desiredIngressRoute(spec, owner).toJSON() as KubernetesObject);
  }
  const actions = [...applyActions(desired, observed, owner, events), ...staleDeletes(desired, ours)];
  if (actions.some((a) => a.action === 'apply' && a.kind === 'IngressRoute')) {
    events.push({
      type: 'Normal',
      reason: 'RouteReady',
      message: `Traefik routes ${describeRoute(spec)} to Service ${spec.name}`,
    });
  }
  const status: Record<string, string | null> = {};
  const url = ownership.kind === 'owner' ? (functionUrl(spec) ?? null) : null;
  if (url !== (annotations?.[StatusAnnotation.url] ?? null)) status[StatusAnnotation.url] = url;
  // Without a current record (admitted while the webhook was away), write the claim as the table dated it.
  if (claim.recorded.state !== 'current') status[StatusAnnotation.claim] = formatClaim(spec, claim.claimedAt);
  return { actions, events, status };
}

/** The default for a plan without a route table: the function owns its route and its claim is recorded. */
const OWNER_WITH_RECORD: ClaimState = {
  ownership: { kind: 'owner' },
  claimedAt: 0,
  recorded: { state: 'current', at: 0 },
};

const WARNING_REASONS: Record<Exclude<Ownership['kind'], 'owner'>, string> = {
  'name-taken': 'FunctionNameConflict',
  'not-granted': 'RouteNotGranted',
  'route-held': 'RouteConflict',
};

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
