import type { FunctionSpec } from './function-spec.js';

/**
 * The `cloudbase.dev/url` status annotation: where the function answers (its path, and its host when set).
 * A pure function of the spec, so the mutating webhook writes it at admission and the controller only
 * corrects it (removed while another function holds the route, restored when the route is ours again).
 */
export function functionUrl(spec: FunctionSpec): string {
  return spec.route.host === undefined
    ? spec.route.pathPrefix
    : `http://${spec.route.host}${spec.route.pathPrefix}`;
}
