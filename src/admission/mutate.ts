import jsonPatch from 'fast-json-patch';
import { formatErrors } from '../contract/parse.js';
import { contractOf, unexpectedKind } from './contract-of.js';
import type { AdmissionOutcome } from './decision.js';
import type { InjectionConfig } from './inject/config.js';
import { injectFunction } from './inject/mutate.js';
import { allowed, badRequest, denied, patched } from './response.js';
import type { AdmissionRequest } from './review.js';

/**
 * The mutating webhook: turns an annotated Deployment into a function. The patch is the diff between the
 * request's object and a mutated copy, so any key (even with `/` or `~`) and absent maps are handled.
 */
export function mutate(request: AdmissionRequest, config: InjectionConfig): AdmissionOutcome {
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
  const mutated = structuredClone(request.object);
  injectFunction(mutated, contract.spec, config);
  const operations = jsonPatch.compare(request.object, mutated);
  return {
    response: patched(uid, operations),
    decision: operations.length === 0 ? 'unchanged' : 'patched',
    functionName: contract.spec.name,
  };
}
