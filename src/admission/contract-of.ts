import { isFunction, parseFunctionSpec, type ParseResult } from '../contract/parse.js';
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
