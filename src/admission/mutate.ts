import jsonPatch from 'fast-json-patch';
import { formatErrors } from '../contract/parse.js';
import { contractOf, unexpectedKind } from './contract-of.js';
import type { AdmissionOutcome } from './decision.js';
import type { AdmissionFacts, InjectionConfig } from './inject/config.js';
import { injectFunction } from './inject/mutate.js';
import { allowed, badRequest, denied, patched } from './response.js';
import type { AdmissionRequest } from './review.js';
import type { V1Deployment } from '@kubernetes/client-node';

/**
 * The mutating webhook: turns an annotated Deployment into a function. The patch is the diff between the
 * request's object and a mutated copy, so any key (even with `/` or `~`) and absent maps are handled.
 */
export function mutate(
  request: AdmissionRequest,
  config: InjectionConfig,
  facts: AdmissionFacts = {},
): AdmissionOutcome {
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
    // Fail closed: a function we cannot read is not admitted half-built. The validating webhook says the same.
    return { response: denied(uid, formatErrors(contract.errors)), decision: 'denied' };
  }
  const mutated = copyForInjection(request.object);
  injectFunction(mutated, contract.spec, config, facts);
  const operations = jsonPatch.compare(request.object, mutated);
  return {
    response: patched(uid, operations),
    decision: operations.length === 0 ? 'unchanged' : 'patched',
    functionName: contract.spec.name,
  };
}

/**
 * A copy that injectFunction may change: the pod template deep, the metadata and spec shallow (injection
 * only reassigns their labels and selector). Everything else (managedFields, the last-applied annotation) is
 * shared with the original, so the diff skips it by identity and the cost does not grow with it.
 */
function copyForInjection(deployment: V1Deployment): V1Deployment {
  // Go clients send an unset spec as null: the same as absent here (injectFunction creates it).
  const spec =
    deployment.spec == null
      ? undefined
      : { ...deployment.spec, template: structuredClone(deployment.spec.template) };
  return { ...deployment, metadata: { ...deployment.metadata }, ...(spec === undefined ? {} : { spec }) };
}
