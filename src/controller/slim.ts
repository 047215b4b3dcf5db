import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * Trims an object to what the controller's caches must keep: only the fields a reconcile or the webhooks
 * read. A cached Deployment is otherwise mostly its pod template, status and managedFields; at 1,000
 * functions whole objects took the controller to 182 MiB, and a larger cluster OOM-killed both replicas.
 *
 * In place, for speed: every object comes fresh from a list response or a watch event, so the cache is its
 * only owner. The same object is returned.
 */
export type Slimmer = <T extends KubernetesObject>(object: T) => T;

/** kubectl's copy of the whole applied object: as large as the object, and never read here. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Metadata read by the controller: name, namespace, uid, resourceVersion (the cache's version check, the
 * status patch's guard), labels, annotations (the function contract, route grants), creationTimestamp
 * (claims), deletionTimestamp (reconcile) and ownerReferences (drift, enqueueing the owner). managedFields
 * and the last-applied annotation go; the other fields are small and kept.
 */
function slimMetadata(object: KubernetesObject): void {
  const metadata = object.metadata;
  if (metadata === undefined || metadata === null) return;
  delete metadata.managedFields;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) delete metadata.annotations[LAST_APPLIED];
}

/** Deletes every top-level field but `fields`. */
function keepOnly(object: KubernetesObject, fields: ReadonlySet<string>): void {
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!fields.has(key)) delete record[key];
}

const METADATA_ONLY = new Set(['apiVersion', 'kind', 'metadata']);
const METADATA_AND_SPEC = new Set(['apiVersion', 'kind', 'metadata', 'spec']);

/**
 * A function Deployment: metadata and spec.replicas. The contract is in its annotations (plan.ts, claims.ts),
 * the autoscaler reads the replicas, and nothing reads the rest of its spec (the pod template is the mutating
 * webhook's, which gets it from the API server) or its status.
 */
export const slimDeployment: Slimmer = (object) => {
  slimMetadata(object);
  const replicas = (object as { spec?: { replicas?: number } }).spec?.replicas;
  keepOnly(object, METADATA_ONLY);
  if (replicas !== undefined) (object as { spec?: unknown }).spec = { replicas };
  return object;
};

/**
 * A function pod: what scaling/pods.ts reads. Its IP and Ready condition, its containers' names and ports,
 * and of its metadata the name, namespace, uid, labels, deletionTimestamp and ownerReferences.
 */
export const slimPod: Slimmer = (object) => {
  slimMetadata(object);
  const pod = object as {
    metadata?: { annotations?: unknown };
    spec?: { containers?: { name: string; ports?: unknown }[] };
    status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
  };
  if (pod.metadata) delete pod.metadata.annotations;
  const containers = (pod.spec?.containers ?? []).map(({ name, ports }) => ({ name, ports }));
  const status = pod.status;
  const ready = status?.conditions
    ?.filter((c) => c.type === 'Ready')
    .map(({ type, status }) => ({ type, status }));
  keepOnly(object, METADATA_ONLY);
  pod.spec = { containers };
  pod.status = { phase: status?.phase, podIP: status?.podIP, conditions: ready ?? [] };
  return object;
};

/** A child (Service, Middleware, IngressRoute): metadata and spec, which drift is measured against (plan.ts hasDrifted). */
export const slimChild: Slimmer = (object) => {
  slimMetadata(object);
  keepOnly(object, METADATA_AND_SPEC);
  return object;
};

/** A Namespace: metadata only; its route grants are annotations (routing/grants.ts). */
export const slimNamespace: Slimmer = (object) => {
  slimMetadata(object);
  keepOnly(object, METADATA_ONLY);
  return object;
};
