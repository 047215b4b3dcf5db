import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { RUNTIMES, type Runtime } from '../../contract/function-spec.js';
import type { RouteOwnership } from '../../routing/table.js';

/** What the webhook injects that is not in the function contract: images and defaults, set by flags. */
export interface InjectionConfig {
  /** Image of each runtime; also runs the build steps (fetch, install). */
  runtimeImages: Readonly<Record<Runtime, string>>;
  /**
   * The activator's admin URL, when Cloudbase runs one: function containers then announce themselves there
   * as they become ready (contract/announce.ts). Injected into every function, not only those at min-scale
   * 0, so that changing min-scale never rolls a function's pods.
   */
  activatorUrl?: string;
  /**
   * The registry function images are built into (`--registry`, contract/build.ts): with one, functions
   * build into images unless they say `cloudbase.dev/build: pod`.
   */
  registry?: string;
  /**
   * The event bus (`--events-url`, a NATS URL) event functions consume from; without one, event functions
   * are refused (src/admission/validate.ts).
   */
  eventsUrl?: string;
}

/**
 * What the webhook read from the cluster for one review, beside the object itself. Each fact is optional:
 * without it the injection chooses what works in every case.
 */
export interface AdmissionFacts {
  /** Keys of the function's source ConfigMap (`configmap:` sources), when it exists and could be read. */
  configMapKeys?: readonly string[];
  /**
   * Every function's name and route claim (the controller's table, when the webhook runs beside it): the
   * URL annotation is written only for a route the function will get.
   */
  routes?: RouteOwnership;
  /** The time of the review: a new name or route is claimed now. */
  now?: Date;
}

/** The registry and tag of the runtime images a release ships; `--runtime-image` overrides them. */
export const DEFAULT_RUNTIME_REGISTRY = 'ghcr.io/cloudbase-dev';
export const RUNTIME_IMAGE_TAG = '0.1.0';

export function defaultRuntimeImages(
  registry = DEFAULT_RUNTIME_REGISTRY,
  tag = RUNTIME_IMAGE_TAG,
): Record<Runtime, string> {
  return Object.fromEntries(
    RUNTIMES.map((runtime) => [runtime, `${registry}/runtime-${runtime}:${tag}`]),
  ) as Record<Runtime, string>;
}

export function defaultInjectionConfig(): InjectionConfig {
  return { runtimeImages: defaultRuntimeImages() };
}

/** Requests and limits for a function container that has none. No CPU limit: it only throttles a burst. */
export const FUNCTION_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '256Mi' },
};

/** The build init container: `npm ci` of a real dependency tree needs more memory than the runtime itself. */
export const BUILD_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { memory: '768Mi' },
};
