/**
 * Configuration of `cloudbase-runtime serve`, read from the environment the webhook injects
 * (see `src/contract/runtime-env.ts`). Parsing is pure so every rule is unit-tested.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { parseHandler } from '../contract/fields.js';
import {
  DEFAULT_EVENT_BACKOFF_MS,
  DEFAULT_EVENT_CONCURRENCY,
  DEFAULT_EVENT_MAX_ATTEMPTS,
} from '../contract/event-bus.js';
import { SIGNATURES, TRIGGERS, type FunctionHandler, type Signature } from '../contract/function-spec.js';
import {
  DEFAULT_DRAIN_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_DRAIN_MS,
  PodLayout,
  RuntimeEnv,
} from '../contract/runtime-env.js';

export const DEFAULT_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS;
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** Upper bound of the per-request timeout: one hour. */
export const MAX_TIMEOUT_MS = 3_600_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * `<module path>[#<export>]` split into its parts, as the contract parses it: relative, without `..`. The
 * loader still checks that the file it resolves stays inside the workspace.
 */
export type HandlerRef = FunctionHandler;

/** Everything `serve` needs, validated. */
export interface RuntimeConfig {
  workspace: string;
  handler: HandlerRef;
  signature: Signature;
  port: number;
  adminPort: number;
  functionName: string;
  namespace: string;
  runtime: string;
  timeoutMs: number;
  maxBodyBytes: number;
  logLevel: LogLevel;
  /** How long to keep serving after SIGTERM before closing (see RuntimeEnv.drainMs). */
  drainMs: number;
  /** This pod's UID, which `/readyz` answers (see RuntimeEnv.podUid). */
  podUid?: string;
  /** Where and what to announce once ready (contract/announce.ts); absent without an activator. */
  announce?: AnnounceConfig;
  /** Set for an event function (`CLOUDBASE_TRIGGER=event`): the runtime consumes events, serves no HTTP. */
  events?: EventsConfig;
}

/** How an event function's runtime consumes (runtime/events/consumer.ts). */
export interface EventsConfig {
  /** NATS server URLs, comma-separated. */
  url: string;
  maxAttempts: number;
  backoffMs: number[];
  concurrency: number;
}

/** The runtime's announcement to the activator. */
export interface AnnounceConfig {
  activatorUrl: string;
  ip: string;
  uid: string;
  tokenFile: string;
}

/** Either a config or every problem found, each naming the variable, its value and what is accepted. */
export type ConfigResult = { ok: true; config: RuntimeConfig } | { ok: false; errors: string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the runtime configuration; collects all errors instead of stopping at the first. */
export function loadRuntimeConfig(env: Env): ConfigResult {
  const errors: string[] = [];
  const read = <T>(name: string, parse: Parser<T>, fallback: T): T => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const parsed = parse(raw.trim());
    if ('expected' in parsed) {
      errors.push(`${name}=${JSON.stringify(raw)} is not valid: expected ${parsed.expected}`);
      return fallback;
    }
    return parsed.value;
  };

  const signature = read(RuntimeEnv.signature, parseSignature, 'fetch');
  const handler = readHandler(env, signature, errors);
  const workspace = read(RuntimeEnv.workspace, parseAbsolutePath, PodLayout.workspaceDir);
  const port = read(RuntimeEnv.port, parsePort, PodLayout.httpPort);
  const adminPort = read(RuntimeEnv.adminPort, parsePort, PodLayout.adminPort);
  if (port === adminPort && port !== 0) {
    errors.push(
      `${RuntimeEnv.port} and ${RuntimeEnv.adminPort} are both ${port}: expected two different ports`,
    );
  }
  const config: RuntimeConfig = {
    workspace,
    handler: handler ?? { modulePath: '' },
    signature,
    port,
    adminPort,
    functionName: read(RuntimeEnv.functionName, text, 'function'),
    namespace: read(RuntimeEnv.namespace, text, 'default'),
    runtime: read(RuntimeEnv.runtime, text, `nodejs${process.versions.node.split('.')[0]}`),
    timeoutMs: read(
      RuntimeEnv.timeoutMs,
      parseIntegerIn(1, MAX_TIMEOUT_MS, 'milliseconds'),
      DEFAULT_TIMEOUT_MS,
    ),
    maxBodyBytes: read(
      RuntimeEnv.maxBodyBytes,
      parseIntegerIn(1, 2 ** 31 - 1, 'bytes'),
      DEFAULT_MAX_BODY_BYTES,
    ),
    logLevel: read(RuntimeEnv.logLevel, parseLogLevel, 'info'),
    drainMs: read(RuntimeEnv.drainMs, parseIntegerIn(0, MAX_DRAIN_MS, 'milliseconds'), DEFAULT_DRAIN_MS),
  };
  const podUid = read(RuntimeEnv.podUid, text, '');
  if (podUid !== '') config.podUid = podUid;
  const announce = readAnnounce(env, podUid, errors);
  if (announce !== undefined) config.announce = announce;
  if (read(RuntimeEnv.trigger, parseTrigger, 'http') === 'event') {
    const url = read(RuntimeEnv.eventsUrl, text, '');
    if (url === '')
      errors.push(
        `${RuntimeEnv.eventsUrl} is not set: expected the event bus's NATS URL, which an event function consumes from (the controller's --events-url)`,
      );
    config.events = {
      url,
      maxAttempts: read(
        RuntimeEnv.eventsMaxAttempts,
        parseIntegerIn(1, 100, 'attempts'),
        DEFAULT_EVENT_MAX_ATTEMPTS,
      ),
      backoffMs: read(RuntimeEnv.eventsBackoffMs, parseDelays, [...DEFAULT_EVENT_BACKOFF_MS]),
      concurrency: read(
        RuntimeEnv.eventsConcurrency,
        parseIntegerIn(1, 1000, 'events'),
        DEFAULT_EVENT_CONCURRENCY,
      ),
    };
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}

/** The announcement, when the webhook named an activator; the pod's IP and UID are then required. */
function readAnnounce(env: Env, uid: string, errors: string[]): AnnounceConfig | undefined {
  const url = env[RuntimeEnv.activatorUrl]?.trim();
  if (url === undefined || url === '') return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // Reported below.
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    errors.push(
      `${RuntimeEnv.activatorUrl}=${JSON.stringify(url)} is not valid: expected an http:// or https:// URL`,
    );
    return undefined;
  }
  const ip = env[RuntimeEnv.podIp]?.trim() ?? '';
  if (isIP(ip) === 0)
    errors.push(
      `${RuntimeEnv.podIp}=${JSON.stringify(ip)} is not valid: expected the pod's IP (the downward API's status.podIP), which ${RuntimeEnv.activatorUrl} needs`,
    );
  if (uid === '')
    errors.push(
      `${RuntimeEnv.podUid} is not set: expected the pod's UID (the downward API's metadata.uid), which ${RuntimeEnv.activatorUrl} needs`,
    );
  return { activatorUrl: url, ip, uid, tokenFile: PodLayout.announceTokenFile };
}

/** A parsed value, or what the variable accepts. */
type Parser<T> = (raw: string) => { value: T } | { expected: string };

const text: Parser<string> = (raw) => ({ value: raw });

function readHandler(env: Env, signature: Signature, errors: string[]): HandlerRef | undefined {
  const raw = env[RuntimeEnv.handler]?.trim();
  if (raw === undefined || raw === '') {
    errors.push(
      `${RuntimeEnv.handler} is not set: expected <module path>[#<export>] relative to the workspace, e.g. handler.js#hello`,
    );
    return undefined;
  }
  const parsed = parseHandler(raw);
  if (!parsed.ok) {
    errors.push(`${RuntimeEnv.handler}=${JSON.stringify(raw)} is not valid: ${parsed.problem}`);
    return undefined;
  }
  const handler = parsed.value;
  if (signature === 'kubeless' && handler.exportName === undefined) {
    errors.push(
      `${RuntimeEnv.handler}=${JSON.stringify(raw)} is not valid for the kubeless signature: expected <module path>#<export>, e.g. ${handler.modulePath}#handler (kubeless calls a named export)`,
    );
  }
  return handler;
}

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const value = values.find((v) => v === raw.toLowerCase());
    return value !== undefined ? { value } : { expected: `one of ${values.join(', ')}` };
  };
}

const parseSignature = oneOf(SIGNATURES);
const parseTrigger = oneOf(TRIGGERS);

const parseDelays: Parser<number[]> = (raw) => {
  const delays = raw.split(',').map((item) => item.trim());
  return delays.every((d) => /^\d+$/.test(d))
    ? { value: delays.map(Number) }
    : { expected: 'comma-separated whole numbers of milliseconds, e.g. 1000,5000,30000' };
};
const parseLogLevel = oneOf(LOG_LEVELS);

const parseAbsolutePath: Parser<string> = (raw) =>
  path.isAbsolute(raw)
    ? { value: path.normalize(raw) }
    : { expected: 'an absolute directory path, e.g. /workspace' };

// 0 lets the OS pick a port; only tests use it.
const parsePort: Parser<number> = (raw) =>
  /^\d+$/.test(raw) && Number(raw) <= 65535
    ? { value: Number(raw) }
    : { expected: 'an integer port between 1 and 65535' };

function parseIntegerIn(min: number, max: number, unit: string): Parser<number> {
  return (raw) => {
    const n = Number(raw);
    return /^\d+$/.test(raw) && n >= min && n <= max
      ? { value: n }
      : { expected: `an integer number of ${unit} between ${min} and ${max}` };
  };
}
