import type { V1SecurityContext } from '@kubernetes/client-node';

/** The numeric user of the runtime image; numeric so the kubelet can verify runAsNonRoot. */
export const RUNTIME_UID = 1000;

/**
 * A container security context that meets the Pod Security Standard `restricted`
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted), with a read-only root:
 * what the webhook gives the containers it injects, and the builder its build steps.
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
