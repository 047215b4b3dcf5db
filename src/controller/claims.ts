import type { V1Deployment } from '@kubernetes/client-node';
import { isFunction, parseFunctionSpec } from '../contract/parse.js';
import type { FunctionSpec } from '../contract/function-spec.js';
import type { RouteClaim } from './desired/conflicts.js';

const routeKey = (spec: FunctionSpec): string => `${spec.route.host ?? ''} ${spec.route.pathPrefix}`;

/**
 * Every function's route claim, indexed by host and path, kept up to date from Deployment events so a
 * reconcile finds the competitors of one function without parsing them all (1,000 functions, 1,000 reconciles).
 */
export class ClaimIndex {
  private readonly byKey = new Map<string, RouteClaim>();
  private readonly byRoute = new Map<string, Set<string>>();

  /**
   * Records the Deployment's claim (or its absence). Returns the other functions whose route decision may
   * have changed: those sharing the old or the new route.
   */
  update(key: string, deployment: V1Deployment | undefined): string[] {
    const before = this.byKey.get(key);
    const claim = deployment === undefined ? undefined : claimOf(key, deployment);
    if (before !== undefined) this.unindex(before);
    if (claim !== undefined) this.index(claim);
    if (before === undefined && claim === undefined) return [];
    const unchanged =
      before !== undefined &&
      claim !== undefined &&
      routeKey(before.spec) === routeKey(claim.spec) &&
      before.spec.route.entrypoints.join() === claim.spec.route.entrypoints.join();
    if (unchanged) return [];
    const affected = new Set<string>();
    for (const c of [before, claim]) {
      if (c === undefined) continue;
      for (const other of this.byRoute.get(routeKey(c.spec)) ?? []) if (other !== key) affected.add(other);
    }
    return [...affected];
  }

  /** The claims that could overlap this function's route. */
  competitors(spec: FunctionSpec): RouteClaim[] {
    return [...(this.byRoute.get(routeKey(spec)) ?? [])].map((key) => this.byKey.get(key)!);
  }

  get(key: string): RouteClaim | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  private index(claim: RouteClaim): void {
    this.byKey.set(claim.key, claim);
    const route = routeKey(claim.spec);
    const keys = this.byRoute.get(route) ?? new Set<string>();
    keys.add(claim.key);
    this.byRoute.set(route, keys);
  }

  private unindex(claim: RouteClaim): void {
    this.byKey.delete(claim.key);
    const keys = this.byRoute.get(routeKey(claim.spec));
    keys?.delete(claim.key);
    if (keys?.size === 0) this.byRoute.delete(routeKey(claim.spec));
  }
}

function claimOf(key: string, deployment: V1Deployment): RouteClaim | undefined {
  const metadata = deployment.metadata;
  if (!isFunction(metadata?.annotations)) return undefined;
  const parsed = parseFunctionSpec({
    annotations: metadata?.annotations,
    name: metadata?.name ?? '',
    namespace: metadata?.namespace ?? '',
  });
  if (!parsed.ok) return undefined;
  const stamp = metadata?.creationTimestamp;
  return { key, spec: parsed.spec, createdAt: stamp === undefined ? new Date(0) : new Date(stamp) };
}
