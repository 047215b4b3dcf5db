import type {
  V1Container,
  V1Deployment,
  V1DeploymentSpec,
  V1ObjectMeta,
  V1PodSpec,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { Label, MANAGED_BY, StatusAnnotation } from '../../contract/annotations.js';
import { builtImageOf, resolveBuild } from '../../contract/build.js';
import type { FunctionSpec } from '../../contract/function-spec.js';
import type { AdmissionFacts, InjectionConfig } from './config.js';
import { completeFunctionContainer } from './function-container.js';
import { completePodSpec } from './pod.js';
import { reconcileOwned } from './owned.js';
import { desiredInitContainers } from './init-containers.js';
import {
  DEFAULT_CONTAINER_ANNOTATION,
  INJECTED_IMAGE_ANNOTATION,
  INJECTED_INIT_CONTAINERS,
  INJECTED_VOLUMES,
  Injected,
} from './names.js';
import { isSubset } from '../../kube/subset.js';
import { sourceLayout } from './source-layout.js';
import { desiredVolumes } from './volumes.js';

/** The status annotations admission writes: the claim record, and the URL when the route is the function's. */
export interface FunctionStatus {
  claim: string;
  url: string | undefined;
}

/**
 * Turns a Deployment into a Cloudbase function, in place: labels, the URL annotation, selector, workspace
 * volumes, build init containers and a completed `function` container. Pure apart from mutating its argument, and idempotent:
 * applied to its own output it changes nothing.
 */
export function injectFunction(
  deployment: V1Deployment,
  spec: FunctionSpec,
  config: InjectionConfig,
  facts: AdmissionFacts,
  status: FunctionStatus,
): void {
  // An image-built function runs its last built image, which holds the code: for the pod, its source is
  // that image. Before the first image exists, the Deployment is paused: no pod runs unbuilt code.
  const imageBuild = resolveBuild(spec, config.registry) === 'image';
  const built = imageBuild ? builtImageOf(deployment.metadata?.annotations) : undefined;
  const runSpec: FunctionSpec = built === undefined ? spec : { ...spec, source: { kind: 'image' } };
  const layout = sourceLayout(runSpec, facts.configMapKeys);
  const labels = { [Label.function]: spec.name, [Label.managedBy]: MANAGED_BY };
  deployment.metadata = withLabels(deployment.metadata, labels);
  // Written here, the controller need not patch every new function (a write that also wakes every
  // Deployment watcher); it only corrects the URL when ownership changes later.
  const metadataAnnotations: Record<string, string> = { ...deployment.metadata.annotations };
  metadataAnnotations[StatusAnnotation.claim] = status.claim;
  if (status.url === undefined) delete metadataAnnotations[StatusAnnotation.url];
  else metadataAnnotations[StatusAnnotation.url] = status.url;
  deployment.metadata.annotations = metadataAnnotations;
  const deploymentSpec = (deployment.spec ??= { selector: {}, template: {} });
  if (imageBuild) pauseUntilBuilt(deploymentSpec, built !== undefined);
  // apps/v1 requires a selector; a minimal function leaves it to us. One the user wrote is kept (it is immutable).
  // Go encodes an unset selector as null, so null and absent are the same here.
  if (deploymentSpec.selector == null || isEmptySelector(deploymentSpec.selector)) {
    deploymentSpec.selector = { matchLabels: { [Label.function]: spec.name } };
  }
  const template: V1PodTemplateSpec = (deploymentSpec.template ??= {});
  template.metadata = withLabels(template.metadata, labels);
  const podSpec: V1PodSpec = (template.spec ??= { containers: [] });

  const runtimeImage = built?.image ?? config.runtimeImages[spec.runtime];
  // An event function is never routed, so never held by the activator (function-container.ts).
  const announces = config.activatorUrl !== undefined && spec.trigger !== 'event';
  podSpec.volumes = reconcileOwned(
    podSpec.volumes,
    desiredVolumes(runSpec, layout, announces),
    INJECTED_VOLUMES,
  );
  podSpec.initContainers = placeOwnedFirst(
    podSpec.initContainers,
    desiredInitContainers(runSpec, layout, runtimeImage),
  );
  if (podSpec.initContainers.length === 0) delete podSpec.initContainers;

  const container = functionContainer(podSpec);
  const image = chooseImage(template.metadata, container, spec, runtimeImage);
  completeFunctionContainer(container, runSpec, layout, podSpec, image, config);
  completePodSpec(podSpec, runSpec, container);
  const annotations = (template.metadata.annotations ??= {});
  annotations[DEFAULT_CONTAINER_ANNOTATION] ??= Injected.functionContainer;
}

/**
 * `spec.paused` is Cloudbase's for an image-built function: paused while it has no image (the Deployment
 * controller then makes no ReplicaSet, so scaling from zero starts nothing), unpaused once it has one.
 * https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pausing-and-resuming-a-deployment
 */
function pauseUntilBuilt(deploymentSpec: V1DeploymentSpec, built: boolean): void {
  if (built) delete deploymentSpec.paused;
  else deploymentSpec.paused = true;
}

function withLabels(metadata: V1ObjectMeta | undefined, labels: Record<string, string>): V1ObjectMeta {
  const result = metadata ?? {};
  result.labels = { ...result.labels, ...labels };
  return result;
}

function isEmptySelector(selector: { matchLabels?: object; matchExpressions?: unknown[] }): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0
  );
}

/** The container named `function`, created first in the list when the user did not write one. */
function functionContainer(podSpec: V1PodSpec): V1Container {
  podSpec.containers ??= [];
  const existing = podSpec.containers.find((c) => c.name === Injected.functionContainer);
  if (existing !== undefined) return existing;
  const created: V1Container = { name: Injected.functionContainer };
  podSpec.containers.unshift(created);
  return created;
}

/**
 * The image to set on the function container, or undefined to keep the current one. The template annotation
 * remembers the image Cloudbase chose, so a runtime change replaces it while an image the user set stays.
 */
function chooseImage(
  metadata: V1ObjectMeta,
  container: V1Container,
  spec: FunctionSpec,
  runtimeImage: string,
): string | undefined {
  const annotations = (metadata.annotations ??= {});
  const injected = annotations[INJECTED_IMAGE_ANNOTATION];
  const oursOrUnset = container.image == null || container.image === '' || container.image === injected;
  if (spec.source.kind === 'image' || !oursOrUnset) {
    // The code lives in the user's image: a runtime image we injected earlier must go (validation then asks
    // for the user's image), and a user image needs no record.
    if (oursOrUnset && injected !== undefined) delete container.image;
    delete annotations[INJECTED_IMAGE_ANNOTATION];
    return undefined;
  }
  annotations[INJECTED_IMAGE_ANNOTATION] = runtimeImage;
  return runtimeImage;
}

/** Our init containers first, in their fixed order, then the user's in theirs. */
function placeOwnedFirst(current: V1Container[] | undefined, desired: V1Container[]): V1Container[] {
  const existing = new Map((current ?? []).map((c) => [c.name, c]));
  const ours = desired.map((want) => {
    const have = existing.get(want.name);
    return have !== undefined && isSubset(want, have) ? have : want;
  });
  const users = (current ?? []).filter((c) => !INJECTED_INIT_CONTAINERS.includes(c.name));
  return [...ours, ...users];
}
