import type { KubernetesObject } from '@kubernetes/client-node';
import { slimFunctionPod } from '../scaling/pods.js';

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

/** A function pod: what scaling/pods.ts reads (the activator's cache trims the same way). */
export const slimPod: Slimmer = (object) => slimFunctionPod(object);

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

/** An EndpointSlice: its metadata, addresses and ports (it has no spec: they are top-level fields). */
export const slimEndpointSlice: Slimmer = (object) => {
  slimMetadata(object);
  keepOnly(object, ENDPOINT_SLICE_FIELDS);
  return object;
};

const ENDPOINT_SLICE_FIELDS = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'addressType',
  'endpoints',
  'ports',
]);

/**
 * A build Job: metadata (its input is an annotation, its owner a reference), status (its conditions and
 * times) and its deadline; the pod template, most of its size, is the builder's and never read back.
 */
export const slimJob: Slimmer = (object) => {
  slimMetadata(object);
  const deadline = (object as { spec?: { activeDeadlineSeconds?: number } }).spec?.activeDeadlineSeconds;
  keepOnly(object, JOB_FIELDS);
  (object as { spec?: unknown }).spec = deadline === undefined ? {} : { activeDeadlineSeconds: deadline };
  return object;
};

const JOB_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/**
 * A build Job's pod: what builder/outcome.ts reads. Its metadata (the Job's name is a label), the names of
 * its steps in the order they run, and its status (conditions say whether it could be scheduled; container
 * states hold each step's exit and the assembler's termination message).
 */
export const slimBuildPod: Slimmer = (object) => {
  slimMetadata(object);
  const spec = (object as { spec?: { initContainers?: { name: string }[]; containers?: { name: string }[] } })
    .spec;
  const names = (containers: { name: string }[] | undefined): { name: string }[] | undefined =>
    containers?.map(({ name }) => ({ name }));
  keepOnly(object, JOB_FIELDS);
  const initContainers = names(spec?.initContainers);
  (object as { spec?: unknown }).spec = {
    ...(initContainers === undefined ? {} : { initContainers }),
    containers: names(spec?.containers) ?? [],
  };
  return object;
};

/**
 * A ConfigMap, watched only to see a function's source change: its name, namespace, uid and version. Its
 * files are read when a build needs them (src/controller/builds.ts), never kept.
 */
export const slimSourceConfigMap: Slimmer = (object) => {
  const { name, namespace, uid, resourceVersion } = object.metadata ?? {};
  keepOnly(object, METADATA_ONLY);
  object.metadata = { name, namespace, uid, resourceVersion };
  return object;
};
