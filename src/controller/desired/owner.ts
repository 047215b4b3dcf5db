import type { V1OwnerReference } from '@kubernetes/client-node';
import { Label, MANAGED_BY } from '../../contract/annotations.js';
import type { FunctionSpec } from '../../contract/function-spec.js';

/** The Deployment a function's children belong to. */
export interface FunctionOwner {
  name: string;
  namespace: string;
  uid: string;
}

/**
 * A controller owner reference: Kubernetes garbage-collects the children with their Deployment.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
 */
export function ownerReference(owner: FunctionOwner): V1OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of a child object: plain fields only, so it fits both client-node and kubernetes-models types. */
export interface ChildMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: V1OwnerReference[];
}

/** Metadata every child of a function carries: its name, labels and the owner reference. */
export function childMetadata(name: string, spec: FunctionSpec, owner: FunctionOwner): ChildMetadata {
  return {
    name,
    namespace: spec.namespace,
    labels: { [Label.function]: spec.name, [Label.managedBy]: MANAGED_BY },
    ownerReferences: [ownerReference(owner)],
  };
}
