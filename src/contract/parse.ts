import { ANNOTATION_PREFIX, Annotation, KNOWN_ANNOTATIONS } from './annotations.js';
import {
  DEFAULT_ENTRYPOINTS,
  DEFAULT_HANDLER,
  DEFAULT_RUNTIME,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_SCALE,
  DEFAULT_MIN_SCALE,
  DEFAULT_SCALE_TO_ZERO_AFTER_MS,
  DEFAULT_SCALE_WINDOW_MS,
  DEFAULT_SIGNATURE,
  RUNTIMES,
  RUNTIME_END_OF_LIFE,
  type Build,
  type FunctionEvents,
  type FunctionRoute,
  type FunctionScaling,
  type FunctionSource,
  type FunctionSpec,
  type Runtime,
} from './function-spec.js';
import {
  parseBuild,
  parseConcurrency,
  parseEntrypoints,
  parseMaxScale,
  parseMinScale,
  parseScaleToZeroAfter,
  parseScaleWindow,
  parseFunctionName,
  parseHandler,
  parseHost,
  parseRoute,
  parseRuntime,
  parseSha256,
  parseSignature,
  parseSource,
  parseTrigger,
  parseTimeout,
  type FieldResult,
  type SourceLocation,
} from './fields.js';
import { nearest } from './suggest.js';
import {
  DEFAULT_EVENT_BACKOFF_MS,
  DEFAULT_EVENT_CONCURRENCY,
  DEFAULT_EVENT_MAX_ATTEMPTS,
} from './event-bus.js';
import {
  parseEventBackoff,
  parseEventConcurrency,
  parseEventMaxAttempts,
  parseEventTypes,
} from './event-fields.js';

/** What the parser reads: a Deployment's annotations plus the name and namespace a default may need. */
export interface ContractInput {
  annotations: Readonly<Record<string, string>> | undefined;
  /** The Deployment's name; empty while only `generateName` is set. */
  name: string;
  namespace: string;
}

/** One wrong annotation. `message` is the full sentence shown to the user. */
export interface FieldError {
  annotation: string;
  value: string | undefined;
  message: string;
}

export type ParseResult =
  | { ok: true; spec: FunctionSpec; warnings: string[] }
  | { ok: false; errors: FieldError[]; warnings: string[] };

/** True when the Deployment opted in to Cloudbase. */
export function isFunction(annotations: Readonly<Record<string, string>> | null | undefined): boolean {
  return annotations != null && Object.hasOwn(annotations, Annotation.function);
}

/**
 * The function name a Deployment declares (`cloudbase.dev/function`: a name, or `true` for the Deployment's),
 * read even when another annotation is wrong; undefined for no function or a wrong name.
 */
export function declaredFunctionName(input: Pick<ContractInput, 'annotations' | 'name'>): string | undefined {
  const value = input.annotations?.[Annotation.function];
  if (value === undefined) return undefined;
  const name = parseFunctionName(value, input.name);
  return name.ok ? name.value : undefined;
}

/**
 * The one parser of the function contract: `cloudbase.dev/*` annotations in, a `FunctionSpec` with every
 * default applied out, or one error per wrong annotation. Unknown `cloudbase.dev/*` keys and a
 * runtime past its end of life are warnings.
 */
export function parseFunctionSpec(input: ContractInput): ParseResult {
  const annotations = input.annotations ?? {};
  const errors: FieldError[] = [];
  const read = <T>(key: string, parse: (value: string) => FieldResult<T>, fallback: T): T => {
    const value = annotations[key];
    if (value === undefined) return fallback;
    const result = parse(value);
    if (result.ok) return result.value;
    errors.push({ annotation: key, value, message: `${key}=${JSON.stringify(value)} ${result.problem}` });
    return fallback;
  };
  const require = <T>(key: string, parse: (value: string) => FieldResult<T>, hint: string): T | undefined => {
    if (annotations[key] === undefined) {
      errors.push({ annotation: key, value: undefined, message: `${key} is required: ${hint}` });
      return undefined;
    }
    return read<T | undefined>(key, parse, undefined);
  };

  const name = require(Annotation.function, (v) =>
    parseFunctionName(v, input.name), 'set it to "true" or the function name');
  const runtime = read(Annotation.runtime, parseRuntime, DEFAULT_RUNTIME);
  const location = require(Annotation.source, parseSource, 'use configmap:<name>, an https:// URL of a .tgz, or image');
  const source = withChecksum(location, annotations, read, errors);
  const handler = read(Annotation.handler, parseHandler, { modulePath: DEFAULT_HANDLER });
  const signature = read(Annotation.signature, parseSignature, DEFAULT_SIGNATURE);
  const trigger = read(Annotation.trigger, parseTrigger, 'http');
  const route =
    trigger === 'http'
      ? readRoute(read, `/${input.namespace}/${name ?? ''}`)
      : refuseForEvents(annotations, errors);
  const events = trigger === 'event' ? readEvents(read, require) : refuseForHttp(annotations, errors);
  const timeoutMs = read<number | undefined>(Annotation.timeout, parseTimeout, undefined);
  const scaling = readScaling(annotations, read, errors);
  const build = read<Build | undefined>(Annotation.build, parseBuild, undefined);
  if (build !== undefined && source?.kind === 'image') errors.push(nothingToBuild(annotations));

  if (signature === 'kubeless' && handler.exportName === undefined)
    errors.push(kubelessNeedsExport(annotations));

  const warnings = [...unknownKeyWarnings(annotations), ...endOfLifeWarnings(runtime)];
  if (errors.length > 0 || name === undefined || source === undefined) {
    return { ok: false, errors, warnings };
  }
  return {
    ok: true,
    spec: {
      name,
      namespace: input.namespace,
      runtime,
      source,
      handler,
      signature,
      trigger,
      ...(route === undefined ? {} : { route }),
      ...(events === undefined ? {} : { events }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      scaling,
      ...(build === undefined ? {} : { build }),
    },
    warnings,
  };
}

/** A source that is an image already has nothing to build, in a pod or in a Job. */
function nothingToBuild(annotations: Readonly<Record<string, string>>): FieldError {
  const key = Annotation.build;
  const value = annotations[key];
  return {
    annotation: key,
    value,
    message: `${key}=${JSON.stringify(value)} builds a function's source, and ${Annotation.source}=image says the code is in the container's image already; remove ${key}`,
  };
}

/** Kubeless handlers are always a named export of a module (`module.function` in Kubeless terms). */
function kubelessNeedsExport(annotations: Readonly<Record<string, string>>): FieldError {
  const key = Annotation.handler;
  const value = annotations[key];
  const fix = 'use <module path>#<export>, e.g. handler.js#hello';
  const message =
    value === undefined
      ? `${key} is required for the kubeless signature: ${fix}`
      : `${key}=${JSON.stringify(value)} names no export, which kubeless handlers need; ${fix}`;
  return { annotation: key, value, message };
}

/** The scaling annotations, with `max-scale` checked against `min-scale`. */
function readScaling(
  annotations: Readonly<Record<string, string>>,
  read: Reader,
  errors: FieldError[],
): FunctionScaling {
  const minScale = read(Annotation.minScale, parseMinScale, DEFAULT_MIN_SCALE);
  const maxValue = annotations[Annotation.maxScale];
  // Without max-scale, a min-scale above the default raises the ceiling with it rather than fail.
  const maxScale = read(Annotation.maxScale, parseMaxScale, Math.max(DEFAULT_MAX_SCALE, minScale));
  if (maxValue !== undefined && maxScale < minScale && annotations[Annotation.minScale] !== undefined) {
    errors.push({
      annotation: Annotation.maxScale,
      value: maxValue,
      message: `${Annotation.maxScale}=${JSON.stringify(maxValue)} is below ${Annotation.minScale}=${JSON.stringify(annotations[Annotation.minScale])}; make max-scale at least min-scale (equal for a fixed number of pods)`,
    });
  }
  return {
    minScale,
    maxScale: Math.max(maxScale, minScale),
    targetConcurrency: read(Annotation.concurrency, parseConcurrency, DEFAULT_CONCURRENCY),
    scaleToZeroAfterMs: read(
      Annotation.scaleToZeroAfter,
      parseScaleToZeroAfter,
      DEFAULT_SCALE_TO_ZERO_AFTER_MS,
    ),
    stableWindowMs: read(Annotation.scaleWindow, parseScaleWindow, DEFAULT_SCALE_WINDOW_MS),
  };
}

type Reader = <T>(key: string, parse: (value: string) => FieldResult<T>, fallback: T) => T;
type Requirer = <T>(key: string, parse: (value: string) => FieldResult<T>, hint: string) => T | undefined;

/** An HTTP function's route: its path (by default `/<namespace>/<function>`), host and entrypoints. */
function readRoute(read: Reader, defaultPath: string): FunctionRoute {
  const pathPrefix = read(Annotation.route, parseRoute, defaultPath);
  const host = read<string | undefined>(Annotation.host, parseHost, undefined);
  const entrypoints = read(Annotation.entrypoints, parseEntrypoints, [...DEFAULT_ENTRYPOINTS]);
  return host === undefined ? { pathPrefix, entrypoints } : { pathPrefix, host, entrypoints };
}

/** An event function's types and delivery policy. */
function readEvents(read: Reader, require: Requirer): FunctionEvents | undefined {
  const types = require(Annotation.events, parseEventTypes, 'an event function receives the CloudEvents types it names, e.g. orders.created or orders.*');
  const maxAttempts = read(Annotation.eventMaxAttempts, parseEventMaxAttempts, DEFAULT_EVENT_MAX_ATTEMPTS);
  const backoffMs = read(Annotation.eventBackoff, parseEventBackoff, [...DEFAULT_EVENT_BACKOFF_MS]);
  const concurrency = read(Annotation.eventConcurrency, parseEventConcurrency, DEFAULT_EVENT_CONCURRENCY);
  return types === undefined ? undefined : { types, maxAttempts, backoffMs, concurrency };
}

/** The HTTP annotations mean nothing to an event function: refuse them rather than ignore them. */
function refuseForEvents(annotations: Readonly<Record<string, string>>, errors: FieldError[]): undefined {
  const routeKeys = [Annotation.route, Annotation.host, Annotation.entrypoints];
  for (const key of routeKeys.filter((k) => annotations[k] !== undefined)) {
    errors.push({
      annotation: key,
      value: annotations[key],
      message: `${key} routes HTTP requests, and ${Annotation.trigger}=event makes a function that has no route (it receives events); remove ${key}, or use ${Annotation.trigger}=http`,
    });
  }
  if (annotations[Annotation.concurrency] !== undefined) {
    errors.push({
      annotation: Annotation.concurrency,
      value: annotations[Annotation.concurrency],
      message: `${Annotation.concurrency} counts HTTP requests in flight, which an event function has none of; use ${Annotation.eventConcurrency} for the events one pod handles at once`,
    });
  }
  return undefined;
}

/** The event annotations mean nothing to an HTTP function. */
function refuseForHttp(annotations: Readonly<Record<string, string>>, errors: FieldError[]): undefined {
  const eventKeys = [
    Annotation.events,
    Annotation.eventMaxAttempts,
    Annotation.eventBackoff,
    Annotation.eventConcurrency,
  ];
  for (const key of eventKeys.filter((k) => annotations[k] !== undefined)) {
    errors.push({
      annotation: key,
      value: annotations[key],
      message: `${key} applies to event functions, and this one is an HTTP function; add ${Annotation.trigger}=event, or remove ${key}`,
    });
  }
  return undefined;
}

/** Joins `cloudbase.dev/source-sha256` to the source: required for https, refused for the others. */
function withChecksum(
  location: SourceLocation | undefined,
  annotations: Readonly<Record<string, string>>,
  read: Reader,
  errors: FieldError[],
): FunctionSource | undefined {
  const key = Annotation.sourceSha256;
  const value = annotations[key];
  if (location === undefined) return undefined;
  if (location.kind !== 'https') {
    if (value !== undefined) {
      errors.push({
        annotation: key,
        value,
        message: `${key} only applies to an https:// source, and ${Annotation.source} is ${location.kind === 'image' ? 'image' : 'a ConfigMap'}; remove it`,
      });
    }
    return location;
  }
  if (value === undefined) {
    errors.push({
      annotation: key,
      value,
      message: `${key} is required for an https:// source: set it to the tarball's sha256 (64 hexadecimal characters, e.g. from sha256sum)`,
    });
    return undefined;
  }
  const sha256 = read<string | undefined>(key, parseSha256, undefined);
  return sha256 === undefined ? undefined : { kind: 'https', url: location.url, sha256 };
}

function unknownKeyWarnings(annotations: Readonly<Record<string, string>>): string[] {
  return Object.keys(annotations)
    .filter((key) => key.startsWith(ANNOTATION_PREFIX) && !KNOWN_ANNOTATIONS.includes(key))
    .map((key) => {
      // Compare the part after the prefix: every candidate shares the prefix, which would drown the signal.
      const known = KNOWN_ANNOTATIONS.map((k) => k.slice(ANNOTATION_PREFIX.length));
      const suggestion = nearest(key.slice(ANNOTATION_PREFIX.length), known);
      const hint = suggestion === undefined ? '' : `; did you mean "${ANNOTATION_PREFIX}${suggestion}"?`;
      return `unknown annotation "${key}" is ignored${hint}`;
    });
}

/** A runtime past its Node.js end of life still runs, but gets no security fixes: say so and name the way out. */
function endOfLifeWarnings(runtime: Runtime): string[] {
  const endOfLife = RUNTIME_END_OF_LIFE[runtime];
  if (endOfLife === undefined) return [];
  const supported = RUNTIMES.filter((r) => RUNTIME_END_OF_LIFE[r] === undefined);
  return [
    `${Annotation.runtime}=${JSON.stringify(runtime)} is past its Node.js end of life (${endOfLife}) and gets no security fixes; use ${supported.join(' or ')}`,
  ];
}

/** One line per error, as the validating webhook shows them. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((error) => error.message).join('; ');
}
