import type { V1Deployment } from '@kubernetes/client-node';
import type { FunctionSpec } from '../contract/function-spec.js';
import { Annotation, StatusAnnotation } from '../contract/annotations.js';
import { buildProblem } from '../contract/build.js';
import { eventBusProblem } from '../contract/event-bus.js';
import { formatErrors } from '../contract/parse.js';
import { claimSubject, readClaim } from '../routing/claim.js';
import { ownershipProblem } from '../routing/messages.js';
import type { RouteOwnership } from '../routing/table.js';
import { contractOf, functionKey, previousSpec, unexpectedKind } from './contract-of.js';
import type { AdmissionOutcome } from './decision.js';
import { Injected } from './inject/names.js';
import { allowed, badRequest, denied } from './response.js';
import type { AdmissionRequest } from './review.js';

/**
 * The validating webhook: rejects a function whose annotations are wrong, one message per annotation, a
 * Deployment that cannot run as the function it claims to be, and a new or changed name or route that is
 * not the function's to take (routing/ownership.ts). Unknown `cloudbase.dev/*` keys are warnings.
 *
 * It never blocks what must always pass: a delete, a Deployment being deleted (the garbage collector
 * removing finalizers), or an update that keeps the name and route, such as a scale, a new image, or the
 * controller's own status patch: a function that lost its route can still be changed and removed.
 */
export function validate(
  request: AdmissionRequest,
  routes?: RouteOwnership,
  now: Date = new Date(),
  installation: { registry?: string | undefined; eventsUrl?: string | undefined } = {},
): AdmissionOutcome {
  const { uid } = request;
  if (request.operation === 'DELETE' || request.operation === 'CONNECT') {
    return { response: allowed(uid), decision: 'skipped' };
  }
  const kindProblem = unexpectedKind(request);
  if (kindProblem !== undefined) return { response: badRequest(uid, kindProblem), decision: 'invalid' };
  if (request.object?.metadata?.deletionTimestamp != null)
    return { response: allowed(uid), decision: 'skipped' };
  const contract = contractOf(request);
  if (contract === undefined || request.object == null)
    return { response: allowed(uid), decision: 'skipped' };
  if (!contract.ok) {
    return { response: denied(uid, formatErrors(contract.errors), contract.warnings), decision: 'denied' };
  }
  const spec = contract.spec;
  const problems = deploymentProblems(request.object, spec);
  const build = buildProblem(spec, installation.registry);
  if (build !== undefined) problems.push(build);
  const bus = eventBusProblem(spec, installation.eventsUrl);
  if (bus !== undefined) problems.push(bus);
  const warnings = [...contract.warnings];
  const ownership = routes === undefined ? undefined : ownershipOf(request, spec, routes, now);
  if (ownership !== undefined) {
    if (claimsChanged(request, spec)) problems.push(ownership);
    // Kept name and route: admitted, and told why it gets no route (its Warning event says the same).
    else warnings.push(`${ownership}; until then this function gets no route`);
  }
  const functionName = spec.name;
  if (problems.length > 0) {
    return { response: denied(uid, problems.join('; '), warnings), decision: 'denied', functionName };
  }
  return { response: allowed(uid, warnings), decision: 'allowed', functionName };
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

/** A CREATE, or an UPDATE that changes the function's name or route: a new claim, which must be free. */
function claimsChanged(request: AdmissionRequest, spec: FunctionSpec): boolean {
  if (request.operation !== 'UPDATE') return true;
  const before = previousSpec(request);
  return before === undefined || claimSubject(before) !== claimSubject(spec);
}

/**
 * Why the function would not own its name or route, as stored after mutation: the claim the mutating
 * webhook recorded (a missing or stale record, as when that webhook did not run, counts as claimed now).
 */
function ownershipOf(
  request: AdmissionRequest,
  spec: FunctionSpec,
  routes: RouteOwnership,
  now: Date,
): string | undefined {
  const recorded = readClaim(request.object?.metadata?.annotations?.[StatusAnnotation.claim], spec);
  const claimedAt = recorded.state === 'current' ? recorded.at : now.getTime();
  return ownershipProblem(spec, routes.decide({ key: functionKey(request, spec), spec, claimedAt }));
}
