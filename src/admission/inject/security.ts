import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';

export { RUNTIME_UID, restrictedSecurityContext } from '../../contract/pod-security.js';
import { RUNTIME_UID } from '../../contract/pod-security.js';

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
