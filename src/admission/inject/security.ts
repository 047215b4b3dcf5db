import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';

/** The numeric user of the runtime image; numeric so the kubelet can verify runAsNonRoot. */
export const RUNTIME_UID = 1000;

/**
 * A container security context that meets the Pod Security Standard `restricted`
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted), with a read-only root.
 */
export function restrictedSecurityContext(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: RUNTIME_UID,
    runAsGroup: RUNTIME_UID,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Completes the user's security context of the function container: each `restricted` field the user left
 * out (here or at pod level) is filled, what the user set is kept.
 */
export function completeSecurityContext(
  current: V1SecurityContext | null | undefined,
  pod: V1PodSecurityContext | null | undefined,
): V1SecurityContext {
  const result: V1SecurityContext = { ...current };
  result.allowPrivilegeEscalation ??= false;
  result.capabilities ??= { drop: ['ALL'] };
  result.readOnlyRootFilesystem ??= true;
  if (pod?.runAsNonRoot == null) result.runAsNonRoot ??= true;
  if (pod?.runAsUser == null) result.runAsUser ??= RUNTIME_UID;
  if (pod?.runAsGroup == null) result.runAsGroup ??= RUNTIME_UID;
  if (pod?.seccompProfile == null) result.seccompProfile ??= { type: 'RuntimeDefault' };
  return result;
}
