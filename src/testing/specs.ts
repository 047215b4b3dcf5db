import { hasRoute, type FunctionSpec, type RoutedFunctionSpec } from '../contract/function-spec.js';
import { parseFunctionSpec } from '../contract/parse.js';
import type { FunctionClaim } from '../routing/claim.js';

/** A parsed function spec for tests: an image function in `namespace/name` with these annotations. */
export function functionSpec(key: string, annotations: Record<string, string> = {}): FunctionSpec {
  const [namespace = '', name = ''] = key.split('/');
  const parsed = parseFunctionSpec({
    annotations: { 'cloudbase.dev/function': 'true', 'cloudbase.dev/source': 'image', ...annotations },
    name,
    namespace,
  });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.spec;
}

/** `functionSpec` of an HTTP function, which has a route. */
export function routedFunctionSpec(
  key: string,
  annotations: Record<string, string> = {},
): RoutedFunctionSpec {
  const spec = functionSpec(key, annotations);
  if (!hasRoute(spec)) throw new Error(`${key} is not an HTTP function: ${JSON.stringify(annotations)}`);
  return spec;
}

/** A claim of `key` (a Deployment named as its function) on `route`, made at `at` (an ISO time). */
export function claimOn(
  key: string,
  route: string,
  at: string,
  annotations: Record<string, string> = {},
): FunctionClaim {
  return {
    key,
    spec: functionSpec(key, { 'cloudbase.dev/route': route, ...annotations }),
    claimedAt: Date.parse(at),
  };
}
