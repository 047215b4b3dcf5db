import type { FunctionScaling } from '../../contract/function-spec.js';

/**
 * The `spec.replicas` admission writes. The autoscaler owns the count, so an UPDATE of a function keeps the
 * live one (a `kubectl apply` of a manifest that says `replicas: 1` never fights it), moved into the bounds
 * should min-scale or max-scale have changed. A new function, or a Deployment just opted in, starts at the
 * count it asks for within the bounds, or at max(min-scale, 1) without one.
 */
export function admittedReplicas(
  scaling: FunctionScaling,
  requested: number | undefined,
  live: number | undefined,
): number {
  const clamp = (n: number): number => Math.min(scaling.maxScale, Math.max(scaling.minScale, n));
  if (live !== undefined) return clamp(live);
  if (requested !== undefined) return clamp(requested);
  return Math.max(scaling.minScale, 1);
}
