import type { V1OwnerReference } from '@kubernetes/client-node';
import { Label, MANAGED_BY } from '../../contract/annotations.js';
import type { FunctionSpec } from '../../contract/function-spec.js';

import { ownerReference, type FunctionOwner } from '../../contract/owner.js';

export { ownerReference, type FunctionOwner };

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
