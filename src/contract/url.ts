import type { FunctionSpec } from './function-spec.js';

/**
 * The `cloudbase.dev/url` status annotation: where the function answers (its path, and its host when set).
 * None for an event function. A pure function of the spec, so the mutating webhook writes it at admission and the controller only
 * corrects it (removed while another function holds the route, restored when the route is ours again).
 */
export function functionUrl(spec: FunctionSpec): string | undefined {
  const route = spec.route;
  if (route === undefined) return undefined; // an event function answers no requests
  return route.host === undefined ? route.pathPrefix : `http://${route.host}${route.pathPrefix}`;
}
