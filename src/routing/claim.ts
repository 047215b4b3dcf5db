import type { V1Deployment } from '@kubernetes/client-node';
import { StatusAnnotation } from '../contract/annotations.js';
import type { FunctionSpec } from '../contract/function-spec.js';
import { isFunction, parseFunctionSpec } from '../contract/parse.js';

/**
 * A function's claim on its name and route: who, what, and since when. The order of claims decides who holds
 * a contested name or route, so the time must be a durable record of the claim, not the Deployment's
 * creation time (an old Deployment that moves onto a held route would otherwise outrank its holder).
 */
export interface FunctionClaim {
  /** `namespace/name` of the Deployment. */
  key: string;
  spec: FunctionSpec;
  /** Milliseconds since the epoch: when this name and route were first admitted. */
  claimedAt: number;
}

/**
 * What the claim covers: the function's name and its route (entrypoints, host, path). A change of any of
 * them is a new claim, made at the time of that change.
 */
export function claimSubject(spec: FunctionSpec): string {
  const route = spec.route;
  if (route === undefined) return `${spec.name} events`; // an event function claims its name only
  const entrypoints = [...route.entrypoints].sort().join(',');
  return `${spec.name} ${entrypoints}:${route.host ?? '*'}${route.pathPrefix}`;
}

/**
 * The `cloudbase.dev/claim` value: `<RFC 3339 time> <function> <entrypoints>:<host or *><path>`, or
 * `<RFC 3339 time> <function> events` for an event function.
 */
export function formatClaim(spec: FunctionSpec, at: Date | number): string {
  return `${new Date(at).toISOString()} ${claimSubject(spec)}`;
}

/** A recorded claim: its time, and whether it still describes the function as it is now. */
export type RecordedClaim =
  | { state: 'missing' }
  | { state: 'current'; at: number }
  /** Unreadable, or for another name or route: the annotation was edited while the webhook was not there. */
  | { state: 'stale' };

/** Reads `cloudbase.dev/claim` against the function it should describe. */
export function readClaim(value: string | undefined, spec: FunctionSpec): RecordedClaim {
  if (value === undefined) return { state: 'missing' };
  const space = value.indexOf(' ');
  const at = Date.parse(value.slice(0, space));
  if (space < 0 || Number.isNaN(at) || value.slice(space + 1) !== claimSubject(spec))
    return { state: 'stale' };
  return { state: 'current', at };
}

/** What the mutating webhook knows of a Deployment before this request: the stored object, on UPDATE. */
export interface PreviousObject {
  spec: FunctionSpec | undefined;
  claim: string | undefined;
  createdAt: number;
}

/**
 * The claim the mutating webhook records. A user's own value is never trusted: on CREATE the claim is made
 * now; on UPDATE the stored claim stays while the name and route stay, and a change of either is a new
 * claim made now. A function stored before claims were recorded keeps its creation time, the order that
 * held until then, so an upgrade moves no route.
 */
export function admittedClaim(
  spec: FunctionSpec,
  previous: PreviousObject | undefined,
  now: Date,
): { at: number; value: string } {
  const at = claimTimeOnAdmission(spec, previous, now.getTime());
  return { at, value: formatClaim(spec, at) };
}

function claimTimeOnAdmission(spec: FunctionSpec, previous: PreviousObject | undefined, now: number): number {
  if (previous?.spec === undefined || claimSubject(previous.spec) !== claimSubject(spec)) return now;
  const recorded = readClaim(previous.claim, previous.spec);
  if (recorded.state === 'current') return Math.max(recorded.at, previous.createdAt);
  return recorded.state === 'missing' ? previous.createdAt : now;
}

/**
 * A stored Deployment's claim as route ownership sees it. A claim is never older than its Deployment (a
 * value written while the webhook was away cannot reach back in time). Without a current record: the
 * creation time for a function from before claims (see admittedClaim), else `observedAt`, the time the
 * caller first saw the function in this shape; the controller then writes that record.
 */
export function claimOfDeployment(
  deployment: V1Deployment,
  observedAt: number,
): { claim: FunctionClaim; recorded: RecordedClaim } | undefined {
  const metadata = deployment.metadata;
  if (!isFunction(metadata?.annotations)) return undefined;
  const namespace = metadata?.namespace ?? '';
  const name = metadata?.name ?? '';
  const parsed = parseFunctionSpec({ annotations: metadata?.annotations, name, namespace });
  if (!parsed.ok) return undefined;
  const createdAt = creationTime(deployment);
  const recorded = readClaim(metadata?.annotations?.[StatusAnnotation.claim], parsed.spec);
  const claimedAt =
    recorded.state === 'current'
      ? Math.max(recorded.at, createdAt)
      : recorded.state === 'missing'
        ? createdAt
        : Math.max(observedAt, createdAt);
  return { claim: { key: `${namespace}/${name}`, spec: parsed.spec, claimedAt }, recorded };
}

/** The Deployment's creation time in milliseconds; 0 when the object has none (never stored). */
export function creationTime(deployment: V1Deployment | null | undefined): number {
  const stamp = deployment?.metadata?.creationTimestamp;
  return stamp == null ? 0 : new Date(stamp).getTime();
}
