import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * What the controller's caches keep of each object: only the fields a reconcile or the webhooks read. A
 * cached Deployment is otherwise mostly its pod template and managedFields, and at thousands of functions
 * whole objects outgrow the controller's memory limit (and both replicas would be OOM-killed at once).
 * The objects are fresh from a list or a watch event and owned by the cache, so they are trimmed in place.
 */
export type Slimmer = (object: KubernetesObject) => KubernetesObject;

/** kubectl's copy of the whole applied object: as large as the object, and never read here. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function slimMetadata(object: KubernetesObject): void {
  const metadata = object.metadata;
  if (metadata === undefined) return;
  delete metadata.managedFields;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) delete metadata.annotations[LAST_APPLIED];
}

/** A function Deployment: its metadata (annotations, labels, uid, times, resourceVersion) and nothing else. */
export const slimDeployment: Slimmer = (object) => {
  slimMetadata(object);
  const record = object as { spec?: unknown; status?: unknown };
  delete record.spec;
  delete record.status;
  return object;
};

/** A child (Service, Middleware, IngressRoute): metadata and spec, which drift is measured against. */
export const slimChild: Slimmer = (object) => {
  slimMetadata(object);
  delete (object as { status?: unknown }).status;
  return object;
};

/** A Namespace: its name, labels and annotations (the route grants). */
export const slimNamespace: Slimmer = (object) => {
  slimMetadata(object);
  const record = object as { spec?: unknown; status?: unknown };
  delete record.spec;
  delete record.status;
  return object;
};
