import { StatusAnnotation } from '../contract/annotations.js';
import type { FunctionSpec } from '../contract/function-spec.js';
import { isFunction, parseFunctionSpec, type ParseResult } from '../contract/parse.js';
import { creationTime, type PreviousObject } from '../routing/claim.js';
import type { AdmissionRequest } from './review.js';

/**
 * Reads the function contract of the request's Deployment, or says why the webhook does nothing with it
 * (a DELETE or CONNECT, an object without the opt-in annotation).
 */
export function contractOf(request: AdmissionRequest): ParseResult | undefined {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return undefined;
  const object = request.object;
  if (object === undefined || object === null || !isFunction(object.metadata?.annotations)) return undefined;
  return parseFunctionSpec({
    annotations: object.metadata?.annotations,
    name: object.metadata?.name ?? request.name ?? '',
    // A namespaced CREATE may leave metadata.namespace empty; the request always carries it.
    namespace: request.namespace ?? object.metadata?.namespace ?? '',
  });
}

/** The webhooks are registered for apps/v1 Deployments; anything else is a configuration mistake. */
export function unexpectedKind(request: AdmissionRequest): string | undefined {
  const { group, version, kind } = request.kind;
  if (group === 'apps' && version === 'v1' && kind === 'Deployment') return undefined;
  return `cloudbase webhooks handle apps/v1 Deployments, not ${group === '' ? '' : `${group}/`}${version} ${kind}; check the webhook configuration's rules`;
}

/** The stored object of an UPDATE, as the claim record needs it: its function spec (if any) and its claim. */
export function previousObject(request: AdmissionRequest): PreviousObject | undefined {
  const old = request.oldObject;
  if (old == null) return undefined;
  return {
    spec: specOf(old.metadata?.annotations, old.metadata?.name ?? request.name ?? '', request),
    claim: old.metadata?.annotations?.[StatusAnnotation.claim],
    createdAt: creationTime(old),
  };
}

/** The function name and route of an UPDATE's stored object, to tell whether the request changes them. */
export function previousSpec(request: AdmissionRequest): FunctionSpec | undefined {
  return previousObject(request)?.spec;
}

function specOf(
  annotations: Record<string, string> | undefined,
  name: string,
  request: AdmissionRequest,
): FunctionSpec | undefined {
  if (!isFunction(annotations)) return undefined;
  // The stored object is not checked by the review schema as the request's object is: a value that is not a
  // string (a hand-made review) means no readable function, never an exception.
  if (Object.values(annotations!).some((value) => typeof value !== 'string')) return undefined;
  const parsed = parseFunctionSpec({
    annotations,
    name,
    namespace: request.namespace ?? request.oldObject?.metadata?.namespace ?? '',
  });
  return parsed.ok ? parsed.spec : undefined;
}

/** `namespace/name` of the request's Deployment: the key its claim is stored under. */
export function functionKey(request: AdmissionRequest, spec: FunctionSpec): string {
  return `${spec.namespace}/${request.object?.metadata?.name ?? request.name ?? ''}`;
}
