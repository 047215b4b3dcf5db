import type { V1OwnerReference } from '@kubernetes/client-node';

/** The Deployment a function's children (Service, routes, build Jobs) belong to. */
export interface FunctionOwner {
  name: string;
  namespace: string;
  uid: string;
}

/**
 * A controller owner reference: Kubernetes garbage-collects the children with their Deployment.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
 */
export function ownerReference(owner: Pick<FunctionOwner, 'name' | 'uid'>): V1OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
