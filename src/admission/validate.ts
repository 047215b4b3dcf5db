import type { V1Deployment } from '@kubernetes/client-node';
import type { FunctionSpec } from '../contract/function-spec.js';
import { Annotation } from '../contract/annotations.js';
import { formatErrors } from '../contract/parse.js';
import { contractOf, unexpectedKind } from './contract-of.js';
import type { AdmissionOutcome } from './decision.js';
import { Injected } from './inject/names.js';
import { allowed, badRequest, denied } from './response.js';
import type { AdmissionRequest } from './review.js';
import { routeHolder, type RouteClaim } from '../controller/desired/conflicts.js';

/** The route claims of the functions that exist, when the webhook runs beside the controller's caches. */
export interface RouteClaims {
  competitors(spec: FunctionSpec): RouteClaim[];
}

/**
 * The validating webhook: rejects a function whose annotations are wrong, one message per annotation, and
 * a Deployment that cannot run as the function it claims to be. Unknown `cloudbase.dev/*` keys are warnings.
 */
export function validate(request: AdmissionRequest, claims?: RouteClaims): AdmissionOutcome {
  const { uid } = request;
  if (request.operation === 'DELETE' || request.operation === 'CONNECT') {
    return { response: allowed(uid), decision: 'skipped' };
  }
  const kindProblem = unexpectedKind(request);
  if (kindProblem !== undefined) return { response: badRequest(uid, kindProblem), decision: 'invalid' };
  const contract = contractOf(request);
  if (contract === undefined || request.object == null)
    return { response: allowed(uid), decision: 'skipped' };
  if (!contract.ok) {
    return { response: denied(uid, formatErrors(contract.errors), contract.warnings), decision: 'denied' };
  }
  const problems = deploymentProblems(request.object, contract.spec);
  const conflict = claims === undefined ? undefined : routeConflict(request, contract.spec, claims);
  if (conflict !== undefined) problems.push(conflict);
  const functionName = contract.spec.name;
  if (problems.length > 0) {
    return {
      response: denied(uid, problems.join('; '), contract.warnings),
      decision: 'denied',
      functionName,
    };
  }
  return { response: allowed(uid, contract.warnings), decision: 'allowed', functionName };
}

/** Checks of the admitted (already mutated) Deployment that no annotation alone can show. */
function deploymentProblems(deployment: V1Deployment, spec: FunctionSpec): string[] {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const container = containers.find((c) => c.name === Injected.functionContainer);
  if (container === undefined) {
    return [
      `no container named "${Injected.functionContainer}": the Cloudbase mutating webhook did not run; check that it is installed`,
    ];
  }
  if (spec.source.kind === 'image' && (container.image == null || container.image === '')) {
    return [
      `${Annotation.source}=image needs the function's image: set the image of the container named "${Injected.functionContainer}" to an image that holds the code`,
    ];
  }
  return [];
}

/**
 * A route another function already holds, when the webhook can see it: the same rule the controller applies
 * (the first claimant keeps it), decided before the Deployment is stored. A new Deployment is the newest claim.
 */
function routeConflict(
  request: AdmissionRequest,
  spec: FunctionSpec,
  claims: RouteClaims,
): string | undefined {
  const key = `${spec.namespace}/${request.object?.metadata?.name ?? request.name ?? ''}`;
  const stamp = request.object?.metadata?.creationTimestamp;
  const createdAt = request.operation === 'CREATE' || stamp == null ? new Date() : new Date(stamp);
  const holder = routeHolder({ key, spec, createdAt }, claims.competitors(spec));
  if (holder === undefined) return undefined;
  const host = spec.route.host === undefined ? '' : ` on host ${spec.route.host}`;
  return `${Annotation.route}: the route ${spec.route.pathPrefix}${host} is held by function ${holder.key}; choose another route or host`;
}
