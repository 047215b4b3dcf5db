/**
 * The environment contract between the mutating webhook and the runtime image.
 *
 * The webhook writes these variables into the injected containers; the runtime (`cloudbase-runtime serve`)
 * and the build steps (`cloudbase-runtime fetch`, `cloudbase-runtime install`) read them. Variables with the
 * `CLOUDBASE_` prefix are owned by the webhook: it rewrites them on every admission so that they always match
 * the Deployment's `cloudbase.dev/*` annotations.
 */
export const RuntimeEnv = {
  /** The function's name (DNS-1035 label). */
  functionName: 'CLOUDBASE_FUNCTION_NAME',
  /** The function's namespace. */
  namespace: 'CLOUDBASE_NAMESPACE',
  /** The runtime, e.g. `nodejs22`. */
  runtime: 'CLOUDBASE_RUNTIME',
  /** `<module path>[#<export>]`, relative to the workspace. */
  handler: 'CLOUDBASE_HANDLER',
  /** `fetch`, `openfaas`, `fission`, `kubeless` or `knative`. */
  signature: 'CLOUDBASE_SIGNATURE',
  /** Port of the function's HTTP server (the container port named `http`). */
  port: 'CLOUDBASE_PORT',
  /** Port of the health and metrics server (the container port named `admin`). */
  adminPort: 'CLOUDBASE_ADMIN_PORT',
  /** Directory that holds the function's code (and its node_modules). */
  workspace: 'CLOUDBASE_WORKSPACE',
  /** The `cloudbase.dev/source` annotation: `configmap:<name>` or an `https://` URL (fetch step only). */
  source: 'CLOUDBASE_SOURCE',
  /** Expected hex sha256 of an `https://` tarball (fetch step only). */
  sourceSha256: 'CLOUDBASE_SOURCE_SHA256',
  /** Where the ConfigMap of a `configmap:` source is mounted read-only (fetch step only). */
  sourceDir: 'CLOUDBASE_SOURCE_DIR',
  /**
   * Per-request timeout of the runtime in milliseconds (1 to 3600000, default 30000); a slower function gets
   * 504. The webhook writes it from `cloudbase.dev/timeout`; without that annotation the default applies.
   */
  timeoutMs: 'CLOUDBASE_TIMEOUT_MS',
  /**
   * Largest request body the runtime accepts, in bytes (default 6 MiB); a larger one gets 413. The user may
   * set it on the function container; the webhook leaves it alone.
   */
  maxBodyBytes: 'CLOUDBASE_MAX_BODY_BYTES',
  /**
   * The runtime's pino log level: fatal, error, warn, info, debug, trace or silent (default info). The user
   * may set it on the function container; the webhook leaves it alone.
   */
  logLevel: 'CLOUDBASE_LOG_LEVEL',
  /**
   * How long the runtime keeps serving after SIGTERM, not ready and answering with `Connection: close`,
   * before it stops accepting (0 to 300000 ms, default {@link DEFAULT_DRAIN_MS}). The user may set it on
   * the function container; the webhook leaves it alone and sizes the pod's grace period to it.
   */
  drainMs: 'CLOUDBASE_DRAIN_MS',
  /**
   * The activator's admin URL (`http://<ClusterIP>:<port>`), where the runtime announces itself the moment
   * it is ready, so that requests held while the function was at zero reach it before the kubelet has
   * published the pod's IP (contract/announce.ts). Absent: no announcement.
   */
  activatorUrl: 'CLOUDBASE_ACTIVATOR_URL',
  /** This pod's IP, from the downward API (`status.podIP`): the address the runtime announces. */
  podIp: 'CLOUDBASE_POD_IP',
  /** This pod's UID, from the downward API (`metadata.uid`): `/readyz` answers it, so a prober knows whom it reached. */
  podUid: 'CLOUDBASE_POD_UID',
  /** `http` (the default) or `event`: an event function's runtime consumes events instead of serving HTTP. */
  trigger: 'CLOUDBASE_TRIGGER',
  /**
   * The event bus (`nats://host:port`, comma-separated for several), where an event function consumes its
   * consumer `<namespace>_<function>` (contract/event-bus.ts). Event functions only.
   */
  eventsUrl: 'CLOUDBASE_EVENTS_URL',
  /** `cloudbase.dev/event-max-attempts`: deliveries before the dead-letter queue. Event functions only. */
  eventsMaxAttempts: 'CLOUDBASE_EVENTS_MAX_ATTEMPTS',
  /** `cloudbase.dev/event-backoff` in milliseconds, comma-separated. Event functions only. */
  eventsBackoffMs: 'CLOUDBASE_EVENTS_BACKOFF_MS',
  /** `cloudbase.dev/event-concurrency`: events in flight in one pod. Event functions only. */
  eventsConcurrency: 'CLOUDBASE_EVENTS_CONCURRENCY',
  /** The image build's output folder, where its steps leave the layers for the assembler (build Job only). */
  buildOut: 'CLOUDBASE_BUILD_OUT',
  /** What the dependencies layer sits on (base image, builder version): part of its key (build Job only). */
  buildSalt: 'CLOUDBASE_BUILD_SALT',
  /**
   * A file the step writes when it ends: `0`, or `1 <its one-line error>`. A build container running beside
   * it (not after it, which costs the kubelet a sync) waits for it (build Job only).
   */
  buildDone: 'CLOUDBASE_BUILD_DONE',
} as const;

/**
 * The drain after SIGTERM. Kubernetes removes a terminating pod from its EndpointSlices at the same time as
 * it signals the pod, and a proxy routes to it until it has seen that change: here the EndpointSlice update
 * (batched 150 ms on the local cluster), then Traefik's provider throttle (1 s) and its configuration
 * rebuild. Five seconds covers that with room for a loaded machine; a pod that closed at once would refuse
 * the requests still sent to it.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 */
export const DEFAULT_DRAIN_MS = 5_000;

/** The longest drain CLOUDBASE_DRAIN_MS may ask for. */
export const MAX_DRAIN_MS = 300_000;

/** The runtime's request timeout without `cloudbase.dev/timeout`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The pod's terminationGracePeriodSeconds: the drain, then the slowest request the function may still be
 * answering (its timeout), plus 5 s for the process to exit, so the kubelet never kills a request mid-answer.
 */
export function terminationGracePeriodSeconds(
  timeoutMs: number | undefined,
  drainMs: number = DEFAULT_DRAIN_MS,
): number {
  return Math.ceil((drainMs + (timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)) / 1000) + 5;
}

/**
 * The variables the webhook owns: it rewrites them on every admission and removes them when they no longer
 * apply. The others (body limit, log level) are the user's to set on the function container.
 */
export const WEBHOOK_OWNED_ENV: ReadonlySet<string> = new Set(
  Object.values(RuntimeEnv).filter(
    (name) => name !== RuntimeEnv.maxBodyBytes && name !== RuntimeEnv.logLevel && name !== RuntimeEnv.drainMs,
  ),
);

/** Fixed paths and ports inside function pods. */
export const PodLayout = {
  workspaceDir: '/workspace',
  sourceDir: '/cloudbase/source',
  tmpDir: '/tmp',
  httpPort: 8080,
  adminPort: 9090,
  /**
   * Where the function container finds its announcement token: a projected service account token for the
   * activator's audience only, bound to the pod (contract/announce.ts).
   */
  announceTokenFile: '/var/run/secrets/cloudbase.dev/activator/token',
  /** The runtime image puts this executable on PATH; its first argument selects the step. */
  runtimeCommand: 'cloudbase-runtime',
} as const;

/** Subcommands of `cloudbase-runtime`. */
export type RuntimeStep =
  | 'serve'
  | 'fetch'
  | 'install'
  | 'build'
  | 'await-ready'
  /** The image build Job's steps (src/builder/job.ts, src/workspace/layers.ts). */
  | 'deps-key'
  | 'layers'
  /** `fetch` then `deps-key`: the first container of a build that may install dependencies. */
  | 'prepare'
  /** `fetch` then `layers`: the one step of a build whose dependencies need no install. */
  | 'code';

/**
 * Paths inside a build Job's pod: one emptyDir at `root`, holding the workspace (its last path segment is
 * the folder the image has the code in, PodLayout.workspaceDir) and the steps' output.
 */
export const BuildLayout = {
  root: '/build',
  workspaceDir: '/build/workspace',
  outDir: '/build/out',
} as const;

/** The files a build Job's steps leave each other in BuildLayout.outDir. */
export const LayerFile = {
  /** Hex sha256 naming the dependencies layer; absent when the function has no lockfile. */
  depsKey: 'deps-key',
  /** Written by the cache check when the registry has the dependencies image: its digest. */
  depsCached: 'deps-cached',
  deps: 'deps.tar',
  code: 'code.tar',
  /** The code step's end (RuntimeEnv.buildDone), which the assembler waits for. */
  codeDone: 'code.done',
} as const;

/** `CLOUDBASE_SOURCE` for a ConfigMap source: the webhook writes it, the build and the runtime read it. */
export function configMapSourceValue(configMapName: string): string {
  return `${CONFIGMAP_SOURCE_PREFIX}${configMapName}`;
}

/** The ConfigMap named by a `CLOUDBASE_SOURCE` value (maybe empty), or undefined for another source. */
export function configMapSourceName(value: string): string | undefined {
  return value.startsWith(CONFIGMAP_SOURCE_PREFIX) ? value.slice(CONFIGMAP_SOURCE_PREFIX.length) : undefined;
}

const CONFIGMAP_SOURCE_PREFIX = 'configmap:';
