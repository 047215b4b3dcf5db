import type { V1Deployment } from '@kubernetes/client-node';
import type { FunctionSpec } from '../contract/function-spec.js';
import { Annotation } from '../contract/annotations.js';
import { formatErrors } from '../contract/parse.js';
import { contractOf, unexpectedKind } from './contract-of.js';
import type { AdmissionOutcome } from './decision.js';
import { Injected } from './inject/names.js';
import { allowed, badRequest, denied } from './response.js';
import type { AdmissionRequest } from './review.js';

/**
 * The validating webhook: rejects a function whose annotations are wrong, one message per annotation, and
 * a Deployment that cannot run as the function it claims to be. Unknown `cloudbase.dev/*` keys are warnings.
 */
export function validate(request: AdmissionRequest): AdmissionOutcome {
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
