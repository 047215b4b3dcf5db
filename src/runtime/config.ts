/**
 * Configuration of `cloudbase-runtime serve`, read from the environment the webhook injects
 * (see `src/contract/runtime-env.ts`). Parsing is pure so every rule is unit-tested.
 */
import path from 'node:path';
import { PodLayout, RuntimeEnv } from '../contract/runtime-env.js';

/** The calling conventions the runtime can adapt a user function from. */
export const SIGNATURES = ['fetch', 'openfaas', 'fission', 'kubeless', 'knative'] as const;
export type Signature = (typeof SIGNATURES)[number];

/**
 * Runtime-only variables that are not (yet) part of the webhook contract. The webhook may map annotations
 * to them; without them the defaults apply.
 */
export const RuntimeTuningEnv = {
  /** Per-request timeout in milliseconds; a slower function gets 504. */
  timeoutMs: 'CLOUDBASE_TIMEOUT_MS',
  /** Largest accepted request body in bytes; a larger one gets 413. */
  maxBodyBytes: 'CLOUDBASE_MAX_BODY_BYTES',
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: 'CLOUDBASE_LOG_LEVEL',
} as const;

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** Upper bound of the per-request timeout: one hour. */
export const MAX_TIMEOUT_MS = 3_600_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `<module path>[#<export>]` split into its parts. */
export interface HandlerRef {
  /** Relative to the workspace, normalised, never escaping it. */
  modulePath: string;
  exportName: string | undefined;
}

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
    handler: handler ?? { modulePath: '', exportName: undefined },
    signature,
    port,
    adminPort,
    functionName: read(RuntimeEnv.functionName, text, 'function'),
    namespace: read(RuntimeEnv.namespace, text, 'default'),
    runtime: read(RuntimeEnv.runtime, text, `nodejs${process.versions.node.split('.')[0]}`),
    timeoutMs: read(
      RuntimeTuningEnv.timeoutMs,
      parseIntegerIn(1, MAX_TIMEOUT_MS, 'milliseconds'),
      DEFAULT_TIMEOUT_MS,
    ),
    maxBodyBytes: read(
      RuntimeTuningEnv.maxBodyBytes,
      parseIntegerIn(1, 2 ** 31 - 1, 'bytes'),
      DEFAULT_MAX_BODY_BYTES,
    ),
    logLevel: read(RuntimeTuningEnv.logLevel, parseLogLevel, 'info'),
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
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
  if (typeof parsed === 'string') {
    errors.push(`${RuntimeEnv.handler}=${JSON.stringify(raw)} is not valid: ${parsed}`);
    return undefined;
  }
  if (signature === 'kubeless' && parsed.exportName === undefined) {
    errors.push(
      `${RuntimeEnv.handler}=${JSON.stringify(raw)} is not valid for the kubeless signature: expected <module path>#<export>, e.g. ${parsed.modulePath}#handler (kubeless calls a named export)`,
    );
  }
  return parsed;
}

/**
 * Parses `<module path>[#<export>]`. The path must stay inside the workspace: it may not be absolute or
 * climb out with `..`. Returns the reason as a string when the value is not acceptable.
 */
export function parseHandler(raw: string): HandlerRef | string {
  const hash = raw.indexOf('#');
  const file = hash === -1 ? raw : raw.slice(0, hash);
  const exportName = hash === -1 ? undefined : raw.slice(hash + 1);
  if (file === '') return 'the module path before "#" is empty';
  if (exportName !== undefined && (exportName === '' || exportName.includes('#'))) {
    return 'expected one export name after a single "#", e.g. handler.js#hello';
  }
  if (path.posix.isAbsolute(file) || path.win32.isAbsolute(file)) {
    return `the module path ${JSON.stringify(file)} is absolute; expected a path relative to the workspace`;
  }
  const normalised = path.posix.normalize(file.replaceAll('\\', '/'));
  if (normalised === '..' || normalised.startsWith('../')) {
    return `the module path ${JSON.stringify(file)} leaves the workspace`;
  }
  return { modulePath: normalised, exportName };
}

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const value = values.find((v) => v === raw.toLowerCase());
    return value !== undefined ? { value } : { expected: `one of ${values.join(', ')}` };
  };
}

const parseSignature = oneOf(SIGNATURES);
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
