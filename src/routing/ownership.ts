import type { FunctionClaim } from './claim.js';
import { grantProblem, type GrantResult } from './grants.js';
import { routesOverlap } from './overlap.js';

/** Who gets what: the function keeps its name and route, or why not. */
export type Ownership =
  | { kind: 'owner' }
  /** Another Deployment in the namespace claimed the function name first: no Service, no route. */
  | { kind: 'name-taken'; holder: FunctionClaim }
  /** The namespace's grant does not cover the route: a Service, no route. */
  | { kind: 'not-granted'; problem: string }
  /** An overlapping route is held by a function that claimed it first: a Service, no route. */
  | { kind: 'route-held'; holder: FunctionClaim };

/** Every function's claim and each namespace's grant: what the decision reads. */
export interface ClaimView {
  /** Every claim, in no particular order. */
  claims(): Iterable<FunctionClaim>;
  /** The claims of Deployments in `namespace` that declare function `name`. */
  sameName(namespace: string, name: string): Iterable<FunctionClaim>;
  grant(namespace: string): GrantResult;
}

/** Claim order: the earlier claim first; ties (same millisecond) by key, so every replica decides the same. */
export function claimedBefore(a: FunctionClaim, b: FunctionClaim): boolean {
  return a.claimedAt < b.claimedAt || (a.claimedAt === b.claimedAt && a.key < b.key);
}

/**
 * Decides one function's ownership, greedily in claim order: a function holds its route when its name is
 * its own, its namespace's grant covers the route, and no earlier claim that holds its own route overlaps
 * it. So a holder never loses its route to a later claimant, and a claim that holds nothing (an ungranted
 * route, a loser) blocks no one.
 */
export function decideOwnership(claim: FunctionClaim, view: ClaimView): Ownership {
  const holds = new Map<string, boolean>();
  const nameHolder = earliest([...view.sameName(claim.spec.namespace, claim.spec.name)], claim);
  if (nameHolder.key !== claim.key) return { kind: 'name-taken', holder: nameHolder };
  const problem = grantProblem(claim.spec, view.grant(claim.spec.namespace));
  if (problem !== undefined) return { kind: 'not-granted', problem };
  const holder = earlierHolders(claim, view, holds)[0];
  return holder === undefined ? { kind: 'owner' } : { kind: 'route-held', holder };
}

/** The earliest of `claims` and `self` (self stands in for its own stored version, if any). */
function earliest(claims: FunctionClaim[], self: FunctionClaim): FunctionClaim {
  let first = self;
  for (const other of claims) if (other.key !== self.key && claimedBefore(other, first)) first = other;
  return first;
}

/** The earlier claims that overlap `claim` and hold their own routes, earliest first. */
function earlierHolders(claim: FunctionClaim, view: ClaimView, holds: Map<string, boolean>): FunctionClaim[] {
  const earlier: FunctionClaim[] = [];
  for (const other of view.claims()) {
    if (other.key !== claim.key && claimedBefore(other, claim) && routesOverlap(other.spec, claim.spec))
      earlier.push(other);
  }
  earlier.sort((a, b) => (claimedBefore(a, b) ? -1 : 1));
  return earlier.filter((other) => holdsRoute(other, view, holds));
}

/** Memoised per decision: the chain of earlier claims is walked once. */
function holdsRoute(claim: FunctionClaim, view: ClaimView, holds: Map<string, boolean>): boolean {
  const known = holds.get(claim.key);
  if (known !== undefined) return known;
  const nameHolder = earliest([...view.sameName(claim.spec.namespace, claim.spec.name)], claim);
  const result =
    nameHolder.key === claim.key &&
    grantProblem(claim.spec, view.grant(claim.spec.namespace)) === undefined &&
    earlierHolders(claim, view, holds).length === 0;
  holds.set(claim.key, result);
  return result;
}
