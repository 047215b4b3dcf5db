/** The runtimes Cloudbase ships an image for. */
export const RUNTIMES = ['nodejs22', 'nodejs20', 'nodejs24'] as const;
export type Runtime = (typeof RUNTIMES)[number];
export const DEFAULT_RUNTIME: Runtime = 'nodejs22';

/**
 * Runtimes whose Node.js line is past its end of life (ISO date): a function on one is admitted with a
 * warning. Add a line when a line reaches its end of life (https://nodejs.org/en/about/previous-releases).
 */
export const RUNTIME_END_OF_LIFE: Readonly<Partial<Record<Runtime, string>>> = {
  nodejs20: '2026-04-30',
};

/** Handler shapes the runtime can call: native fetch style and those of other FaaS platforms. */
export const SIGNATURES = ['fetch', 'openfaas', 'fission', 'kubeless', 'knative'] as const;
export type Signature = (typeof SIGNATURES)[number];
export const DEFAULT_SIGNATURE: Signature = 'fetch';

/** `http`: the function answers requests on its route; `event`: it handles events from the event bus. */
export const TRIGGERS = ['http', 'event'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/**
 * Where a function's code and dependencies are put together: `pod`, by a build init container in every pod
 * (fetch, `npm ci`); `image`, once, by a build Job that pushes an image to the installation's registry.
 */
export const BUILDS = ['pod', 'image'] as const;
export type Build = (typeof BUILDS)[number];

export const DEFAULT_HANDLER = 'index.js';
export const DEFAULT_ENTRYPOINTS: readonly string[] = ['web'];

/** Where the function's code comes from. */
export type FunctionSource =
  /** Files of a ConfigMap in the function's namespace. */
  | { kind: 'configmap'; configMapName: string }
  /** A .tgz downloaded at pod start and checked against its sha256. */
  | { kind: 'https'; url: string; sha256: string }
  /** The code is already in the function container's image. */
  | { kind: 'image' };

export interface FunctionHandler {
  /** Module path relative to the workspace, e.g. `lib/index.js`. */
  modulePath: string;
  /** Named export; absent means the default export / `module.exports`. */
  exportName?: string;
}

export interface FunctionRoute {
  /** URL path prefix Traefik matches; always starts with `/` and has no trailing `/` (except `/` itself). */
  pathPrefix: string;
  /** Host to match; absent means any host. */
  host?: string;
  /** Traefik entrypoints, de-duplicated, in the order given. */
  entrypoints: string[];
}

/**
 * How events reach an event function (`cloudbase.dev/trigger: event`): which CloudEvents types, how many
 * deliveries before the dead-letter queue, the delays between them, and how many one pod handles at once.
 * src/contract/event-bus.ts names the stream, subjects and consumer they become.
 */
export interface FunctionEvents {
  /** CloudEvents `type` patterns: exact (`orders.created`) or ending in a `*` segment (`orders.*`). */
  types: string[];
  /** Deliveries of one event, the first included, before it goes to the dead-letter queue. */
  maxAttempts: number;
  /** The delay before each redelivery, in milliseconds; the last one repeats. */
  backoffMs: number[];
  /** Events one pod handles at once: the runtime pulls no more than its free slots. */
  concurrency: number;
}

/**
 * How the autoscaler sizes the function (src/scaling/decide.ts): between `minScale` and `maxScale` pods,
 * about `targetConcurrency` requests in flight per pod, none after `scaleToZeroAfterMs` without a request.
 * `minScale` = `maxScale` is a fixed-size function.
 */
export interface FunctionScaling {
  minScale: number;
  maxScale: number;
  /** Requests in flight per pod the autoscaler aims at (before its utilisation margin). */
  targetConcurrency: number;
  scaleToZeroAfterMs: number;
  /** The stable window the autoscaler averages over; the panic window is a tenth of it. */
  stableWindowMs: number;
}

export const DEFAULT_MIN_SCALE = 0;
export const DEFAULT_MAX_SCALE = 10;
/**
 * Requests in flight per pod. The runtime is one Node.js event loop: for the I/O-bound handlers functions
 * mostly are it keeps hundreds of requests in flight at no cost, while a CPU-bound handler saturates its
 * core at any concurrency and is better sized with a small value. 100 is Knative's default target, which
 * users of both know; the autoscaler aims at 70 % of it (see src/scaling/decide.ts).
 */
export const DEFAULT_CONCURRENCY = 100;
export const DEFAULT_SCALE_TO_ZERO_AFTER_MS = 60_000;
/** Knative's stable window (`autoscaling.knative.dev/window`), and its bounds. */
export const DEFAULT_SCALE_WINDOW_MS = 60_000;
export const MIN_SCALE_WINDOW_MS = 6_000;
export const MAX_SCALE_WINDOW_MS = 3_600_000;
/** Kubernetes has no limit; a bound keeps a typo (`max-scale: 10000`) from asking for a cluster's worth. */
export const MAX_SCALE_LIMIT = 1_000;

/** A function as the contract describes it, with every default applied. */
export interface FunctionSpec {
  name: string;
  namespace: string;
  runtime: Runtime;
  source: FunctionSource;
  handler: FunctionHandler;
  signature: Signature;
  trigger: Trigger;
  /** Where Traefik routes the function's requests; an event function has none. */
  route?: FunctionRoute;
  /** Set exactly when `trigger` is `event`. */
  events?: FunctionEvents;
  /** Per-request timeout in milliseconds; absent means the runtime's default (30 s). */
  timeoutMs?: number;
  scaling: FunctionScaling;
  /**
   * `cloudbase.dev/build` as given; absent means the installation's default (`image` with a registry, else
   * `pod`), which contract/build.ts resolves. Never set for a source that is already an image.
   */
  build?: Build;
}

/** A function with an HTTP route: every function whose trigger is `http`. */
export type RoutedFunctionSpec = FunctionSpec & { route: FunctionRoute };

export function hasRoute(spec: FunctionSpec): spec is RoutedFunctionSpec {
  return spec.route !== undefined;
}

/** `<module path>[#<export>]`, the form of `cloudbase.dev/handler` and of the runtime's `CLOUDBASE_HANDLER`. */
export function formatHandler(handler: FunctionHandler): string {
  return handler.exportName === undefined
    ? handler.modulePath
    : `${handler.modulePath}#${handler.exportName}`;
}
