import type { FunctionClaim } from './claim.js';
import type { GrantResult } from './grants.js';
import { decideOwnership, type ClaimView, type Ownership } from './ownership.js';
import { routesOverlap } from './overlap.js';

/** Each namespace's grant, as the caller knows it (the controller: from its Namespace cache). */
export type GrantLookup = (namespace: string) => GrantResult;

/** What admission asks: the ownership a function would have if it were stored as given. */
export interface RouteOwnership {
  decide(claim: FunctionClaim): Ownership;
}

const ANY_ROUTE: GrantResult = { ok: true, grant: {} };

/**
 * Every function's claim, kept up to date by the controller from Deployment events, and the decisions over
 * them. The controller's reconciles and the webhooks in the same process ask the same table, so admission
 * refuses exactly what the controller would not route.
 */
export class RouteTable implements RouteOwnership {
  private readonly byKey = new Map<string, FunctionClaim>();
  /** `namespace/function` → Deployment keys declaring that function name. */
  private readonly byName = new Map<string, Set<string>>();

  constructor(private readonly grants: GrantLookup = () => ANY_ROUTE) {}

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): FunctionClaim | undefined {
    return this.byKey.get(key);
  }

  /** The ownership `claim` has, or would have in place of the stored claim of the same key. */
  decide(claim: FunctionClaim): Ownership {
    return decideOwnership(claim, this.viewWith(claim));
  }

  /**
   * Records a Deployment's claim (undefined: it is gone or no longer a function). Returns the keys of the
   * other functions whose ownership may have changed: every claim connected to the old or the new one by
   * overlapping routes or a shared name, since a change early in the claim order can pass down a chain.
   */
  update(key: string, claim: FunctionClaim | undefined): string[] {
    const before = this.byKey.get(key);
    if (before !== undefined) this.remove(before);
    if (claim !== undefined) this.add(claim);
    if (before !== undefined && claim !== undefined && sameTerms(before, claim)) return [];
    return this.connected(
      [before, claim].filter((c): c is FunctionClaim => c !== undefined),
      key,
    );
  }

  /** The keys whose ownership may change when `namespace`'s grant changes. */
  namespaceChanged(namespace: string): string[] {
    const inNamespace = [...this.byKey.values()].filter((claim) => claim.spec.namespace === namespace);
    return [...new Set([...inNamespace.map((c) => c.key), ...this.connected(inNamespace, '')])];
  }

  private viewWith(claim: FunctionClaim): ClaimView {
    const stored = this.byKey.get(claim.key);
    const claims = (): Iterable<FunctionClaim> =>
      stored === undefined
        ? [...this.byKey.values(), claim]
        : [...this.byKey.values()].map((c) => (c.key === claim.key ? claim : c));
    return {
      claims,
      sameName: (namespace, name) => {
        const keys = this.byName.get(`${namespace}/${name}`) ?? new Set<string>();
        const others = [...keys].filter((k) => k !== claim.key).map((k) => this.byKey.get(k)!);
        return claim.spec.namespace === namespace && claim.spec.name === name ? [...others, claim] : others;
      },
      grant: (namespace) => this.grants(namespace),
    };
  }

  /** Every stored claim reachable from `start` through overlaps and shared names, `exclude` left out. */
  private connected(start: FunctionClaim[], exclude: string): string[] {
    const seen = new Set<string>([exclude]);
    const queue = [...start];
    const found: string[] = [];
    while (queue.length > 0) {
      const current = queue.pop()!;
      for (const other of this.byKey.values()) {
        if (seen.has(other.key)) continue;
        const sameName =
          other.spec.namespace === current.spec.namespace && other.spec.name === current.spec.name;
        if (sameName || routesOverlap(other.spec, current.spec)) {
          seen.add(other.key);
          found.push(other.key);
          queue.push(other);
        }
      }
    }
    return found;
  }

  private add(claim: FunctionClaim): void {
    this.byKey.set(claim.key, claim);
    const name = `${claim.spec.namespace}/${claim.spec.name}`;
    const keys = this.byName.get(name) ?? new Set<string>();
    keys.add(claim.key);
    this.byName.set(name, keys);
  }

  private remove(claim: FunctionClaim): void {
    this.byKey.delete(claim.key);
    const name = `${claim.spec.namespace}/${claim.spec.name}`;
    const keys = this.byName.get(name);
    keys?.delete(claim.key);
    if (keys?.size === 0) this.byName.delete(name);
  }
}

/** Same name, route and claim time: no one else's ownership can have changed. */
function sameTerms(a: FunctionClaim, b: FunctionClaim): boolean {
  return (
    a.claimedAt === b.claimedAt &&
    a.spec.name === b.spec.name &&
    a.spec.route?.pathPrefix === b.spec.route?.pathPrefix &&
    a.spec.route?.host === b.spec.route?.host &&
    a.spec.route?.entrypoints.join() === b.spec.route?.entrypoints.join()
  );
}
