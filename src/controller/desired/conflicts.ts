import type { FunctionSpec } from '../../contract/function-spec.js';

/** A function as the route-ownership decision sees it. */
export interface RouteClaim {
  /** `namespace/name` of the Deployment. */
  key: string;
  spec: FunctionSpec;
  /** When the Deployment was created; the first claimant keeps a contested route. */
  createdAt: Date;
}

/** Two functions conflict when they would answer the same requests: same host, same path, a shared entrypoint. */
export function claimsOverlap(a: FunctionSpec, b: FunctionSpec): boolean {
  return (
    a.route.pathPrefix === b.route.pathPrefix &&
    a.route.host === b.route.host &&
    a.route.entrypoints.some((entrypoint) => b.route.entrypoints.includes(entrypoint))
  );
}

/**
 * The function holding `claim`'s route, when it is another one: the oldest overlapping claim, ties broken by
 * key so every replica decides the same. Undefined when `claim` keeps its route.
 */
export function routeHolder(claim: RouteClaim, all: readonly RouteClaim[]): RouteClaim | undefined {
  const earlier = all.filter(
    (other) =>
      other.key !== claim.key &&
      claimsOverlap(claim.spec, other.spec) &&
      (other.createdAt.getTime() < claim.createdAt.getTime() ||
        (other.createdAt.getTime() === claim.createdAt.getTime() && other.key < claim.key)),
  );
  return earlier.sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.key.localeCompare(b.key),
  )[0];
}
