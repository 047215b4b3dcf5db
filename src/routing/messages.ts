import { Annotation } from '../contract/annotations.js';
import type { FunctionSpec } from '../contract/function-spec.js';
import type { FunctionClaim } from './claim.js';
import type { Ownership } from './ownership.js';

/** `/shop on any host (entrypoints web)`: a route as users write it. */
export function describeRoute(spec: FunctionSpec): string {
  const route = spec.route;
  if (route === undefined) return 'no route (an event function)';
  const host = route.host === undefined ? 'any host' : `host ${route.host}`;
  return `${route.pathPrefix} on ${host} (entrypoints ${route.entrypoints.join(', ')})`;
}

const since = (claim: FunctionClaim): string => new Date(claim.claimedAt).toISOString();

/**
 * The sentence that says why a function does not own its name or route and what to do, for the validating
 * webhook's refusal and the controller's Warning event alike. Undefined for an owner.
 */
export function ownershipProblem(spec: FunctionSpec, ownership: Ownership): string | undefined {
  switch (ownership.kind) {
    case 'owner':
      return undefined;
    case 'name-taken':
      return `${Annotation.function}: the function name "${spec.name}" is taken in namespace ${spec.namespace} by Deployment ${ownership.holder.key} (claimed ${since(ownership.holder)}); one name has one Service, so choose another name with ${Annotation.function}`;
    case 'not-granted':
      return `${Annotation.route}: ${ownership.problem}`;
    case 'route-held': {
      const holder = ownership.holder;
      const identical =
        holder.spec.route?.pathPrefix === spec.route?.pathPrefix &&
        holder.spec.route?.host === spec.route?.host;
      const relation = identical
        ? `is held by function ${holder.key}`
        : `overlaps ${describeRoute(holder.spec)}, held by function ${holder.key}`;
      return `${Annotation.route}: the route ${describeRoute(spec)} ${relation}, which claimed it first (${since(holder)}); choose another route or host`;
    }
  }
}
