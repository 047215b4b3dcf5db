/**
 * The `cloudbase.dev/*` annotations a user puts on a Deployment's metadata: the whole function contract.
 * Only the parser in `parse.ts` reads them; everything else works from the `FunctionSpec` it returns.
 */
export const ANNOTATION_PREFIX = 'cloudbase.dev/';

export const Annotation = {
  function: 'cloudbase.dev/function',
  runtime: 'cloudbase.dev/runtime',
  source: 'cloudbase.dev/source',
  sourceSha256: 'cloudbase.dev/source-sha256',
  handler: 'cloudbase.dev/handler',
  signature: 'cloudbase.dev/signature',
  trigger: 'cloudbase.dev/trigger',
  route: 'cloudbase.dev/route',
  host: 'cloudbase.dev/host',
  entrypoints: 'cloudbase.dev/entrypoints',
  timeout: 'cloudbase.dev/timeout',
  minScale: 'cloudbase.dev/min-scale',
  maxScale: 'cloudbase.dev/max-scale',
  concurrency: 'cloudbase.dev/concurrency',
  scaleToZeroAfter: 'cloudbase.dev/scale-to-zero-after',
  scaleWindow: 'cloudbase.dev/scale-window',
  build: 'cloudbase.dev/build',
  events: 'cloudbase.dev/events',
  eventMaxAttempts: 'cloudbase.dev/event-max-attempts',
  eventBackoff: 'cloudbase.dev/event-backoff',
  eventConcurrency: 'cloudbase.dev/event-concurrency',
} as const;

/** Annotations Cloudbase itself writes on a function (status a user reads with kubectl). */
export const StatusAnnotation = {
  url: 'cloudbase.dev/url',
  /**
   * When the function claimed its name and route, and which: `<RFC 3339 time> <function> <route>`. Written
   * by the mutating webhook (a user's value is replaced), read by route ownership (src/routing/claim.ts).
   */
  claim: 'cloudbase.dev/claim',
  /** `Building`, `Succeeded` or `Failed`: the last image build's state (`cloudbase.dev/build: image`). */
  buildStatus: 'cloudbase.dev/build-status',
  /**
   * The image the function runs, `<registry>/<namespace>/<function>@sha256:...`, with the build input it was
   * built from (src/contract/build.ts): written by the controller once a build has pushed it.
   */
  image: 'cloudbase.dev/image',
  /** The build input's key (src/contract/build.ts buildKey) that `cloudbase.dev/image` was built from. */
  buildInput: 'cloudbase.dev/build-input',
  /** The key of the dependencies layer under `cloudbase.dev/image`, when known: a code change reuses it. */
  buildDependencies: 'cloudbase.dev/build-dependencies',
  /**
   * The build inputs of the images the function keeps in the registry, newest first, space-separated: the
   * image it runs and the ones before it (src/builder/retention.ts); older images are deleted.
   */
  buildHistory: 'cloudbase.dev/build-history',
} as const;

/** Every `cloudbase.dev/*` key Cloudbase knows; any other key under the prefix earns a warning. */
export const KNOWN_ANNOTATIONS: readonly string[] = [
  ...Object.values(Annotation),
  ...Object.values(StatusAnnotation),
];

/** Labels Cloudbase puts on a function's Deployment and pods. */
export const Label = {
  function: 'cloudbase.dev/function',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const MANAGED_BY = 'cloudbase';
