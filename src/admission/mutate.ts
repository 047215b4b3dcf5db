import jsonPatch from 'fast-json-patch';
import { formatErrors } from '../contract/parse.js';
import { contractOf, functionKey, previousObject, unexpectedKind } from './contract-of.js';
import type { AdmissionOutcome } from './decision.js';
import type { AdmissionFacts, InjectionConfig } from './inject/config.js';
import { injectFunction, type FunctionStatus } from './inject/mutate.js';
import { admittedReplicas } from './inject/replicas.js';
import { allowed, badRequest, denied, patched } from './response.js';
import type { AdmissionRequest } from './review.js';
import type { V1Deployment } from '@kubernetes/client-node';
import { admittedClaim } from '../routing/claim.js';
import { functionUrl } from '../contract/url.js';
import type { FunctionSpec } from '../contract/function-spec.js';

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
  // A Deployment being deleted is only losing finalizers (the garbage collector's updates): never block or
  // change that, or a foreground delete hangs.
  if (request.object?.metadata?.deletionTimestamp != null)
    return { response: allowed(uid), decision: 'skipped' };
  const contract = contractOf(request);
  if (contract === undefined || request.object == null)
    return { response: allowed(uid), decision: 'skipped' };
  if (!contract.ok) {
    // Fail closed: a function we cannot read is not admitted half-built. The validating webhook says the same.
    return { response: denied(uid, formatErrors(contract.errors)), decision: 'denied' };
  }
  const mutated = copyForInjection(request.object);
  injectFunction(mutated, contract.spec, config, facts, statusOf(request, contract.spec, facts));
  mutated.spec!.replicas = replicasOf(request, contract.spec, mutated.spec!.replicas);
  const operations = jsonPatch.compare(request.object, mutated);
  return {
    response: patched(uid, operations),
    decision: operations.length === 0 ? 'unchanged' : 'patched',
    functionName: contract.spec.name,
  };
}

/**
 * The claim to record and the URL to show: a new or changed name or route is claimed now (see
 * routing/claim.ts); the URL only when the route will be the function's, as far as the webhook can see.
 */
function statusOf(request: AdmissionRequest, spec: FunctionSpec, facts: AdmissionFacts): FunctionStatus {
  const now = facts.now ?? new Date();
  const claim = admittedClaim(
    spec,
    request.operation === 'UPDATE' ? previousObject(request) : undefined,
    now,
  );
  if (facts.routes === undefined) return { claim: claim.value, url: functionUrl(spec) };
  const ownership = facts.routes.decide({ key: functionKey(request, spec), spec, claimedAt: claim.at });
  return { claim: claim.value, url: ownership.kind === 'owner' ? functionUrl(spec) : undefined };
}

/** The live count of a function being updated, else what the request asks for (inject/replicas.ts). */
function replicasOf(request: AdmissionRequest, spec: FunctionSpec, requested: number | undefined): number {
  const wasFunction = request.operation === 'UPDATE' && previousObject(request)?.spec !== undefined;
  const live = wasFunction ? (request.oldObject?.spec?.replicas ?? undefined) : undefined;
  return admittedReplicas(spec.scaling, requested ?? undefined, live);
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
