import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { FunctionSpec } from '../../contract/function-spec.js';
import {
  DEFAULT_DRAIN_MS,
  MAX_DRAIN_MS,
  RuntimeEnv,
  terminationGracePeriodSeconds,
} from '../../contract/runtime-env.js';

/** What the API server sets when a pod spec names no grace period (before admission, so it looks set). */
const KUBERNETES_DEFAULT_GRACE_SECONDS = 30;

/**
 * Pod-level fields of a function: no ServiceAccount token unless the user asked for one (neither the runtime
 * nor the build step calls the API, and a token in every function pod is a credential for whoever breaks
 * into one), and a termination grace period that covers the runtime's drain and its slowest request.
 * https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 */
export function completePodSpec(podSpec: V1PodSpec, spec: FunctionSpec, container: V1Container): void {
  podSpec.automountServiceAccountToken ??= false;
  // Raised, never lowered: a longer period the user chose is kept.
  const needed = terminationGracePeriodSeconds(spec.timeoutMs, drainMsOf(container));
  if ((podSpec.terminationGracePeriodSeconds ?? KUBERNETES_DEFAULT_GRACE_SECONDS) < needed) {
    podSpec.terminationGracePeriodSeconds = needed;
  }
}

/** The drain the runtime will use: the user's CLOUDBASE_DRAIN_MS when it is a valid number, else the default. */
function drainMsOf(container: V1Container): number {
  const value = container.env?.find((e) => e.name === RuntimeEnv.drainMs)?.value;
  const ms = value === undefined ? NaN : Number(value);
  return Number.isInteger(ms) && ms >= 0 && ms <= MAX_DRAIN_MS ? ms : DEFAULT_DRAIN_MS;
}
