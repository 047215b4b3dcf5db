import { isDns1035Label, isDns1123Subdomain } from './names.js';
import {
  MAX_SCALE_LIMIT,
  MAX_SCALE_WINDOW_MS,
  MIN_SCALE_WINDOW_MS,
  BUILDS,
  RUNTIMES,
  SIGNATURES,
  TRIGGERS,
  type Build,
  type FunctionHandler,
  type FunctionSource,
  type Runtime,
  type Signature,
  type Trigger,
} from './function-spec.js';

/** One annotation's parse: its value, or what is wrong with it (a sentence fragment, no annotation name). */
export type FieldResult<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const bad = <T>(problem: string): FieldResult<T> => ({ ok: false, problem });

const DNS1035_HINT =
  "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, at most 63 characters";

function oneOf<T extends string>(allowed: readonly T[], what: string, value: string): FieldResult<T> {
  return (allowed as readonly string[]).includes(value)
    ? ok(value as T)
    : bad(`is not a supported ${what}; use one of ${allowed.join(', ')}`);
}

/**
 * `cloudbase.dev/function`: `"true"` takes the Deployment's name, anything else is the function's name.
 * The name becomes a Service name, hence DNS-1035.
 */
export function parseFunctionName(value: string, deploymentName: string): FieldResult<string> {
  if (value === 'false') return bad('cannot be "false"; to opt out, remove the annotation');
  if (value !== 'true') {
    return isDns1035Label(value) ? ok(value) : bad(`is not a valid function name; use ${DNS1035_HINT}`);
  }
  if (deploymentName === '') {
    return bad(
      'takes the Deployment name, which is not set yet (generateName); set the function name instead',
    );
  }
  return isDns1035Label(deploymentName)
    ? ok(deploymentName)
    : bad(
        `takes the Deployment name "${deploymentName}", which is not a valid function name (${DNS1035_HINT}); set a valid name instead`,
      );
}

export const parseRuntime = (value: string): FieldResult<Runtime> => oneOf(RUNTIMES, 'runtime', value);
export const parseBuild = (value: string): FieldResult<Build> => oneOf(BUILDS, 'build', value);

export const parseSignature = (value: string): FieldResult<Signature> =>
  oneOf(SIGNATURES, 'signature', value);

export const parseTrigger = (value: string): FieldResult<Trigger> => oneOf(TRIGGERS, 'trigger', value);

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A source as the annotation names it; an https source gets its checksum from another annotation. */
export type SourceLocation = Exclude<FunctionSource, { kind: 'https' }> | { kind: 'https'; url: string };

/** `cloudbase.dev/source` (+ `cloudbase.dev/source-sha256`, which only an https source takes). */
export function parseSource(value: string): FieldResult<SourceLocation> {
  const accepted = 'use configmap:<name>, an https:// URL of a .tgz, or image';
  if (value === 'image') return ok({ kind: 'image' });
  if (value.startsWith('configmap:')) {
    const configMapName = value.slice('configmap:'.length);
    return isDns1123Subdomain(configMapName)
      ? ok({ kind: 'configmap', configMapName })
      : bad(
          `names "${configMapName}", which is not a valid ConfigMap name (lowercase letters, digits, '-' and '.')`,
        );
  }
  if (/^https:\/\//i.test(value)) return parseHttpsUrl(value);
  if (/^http:\/\//i.test(value)) return bad(`is plain http; the code must come over https (${accepted})`);
  return bad(`is not a known source; ${accepted}`);
}

function parseHttpsUrl(value: string): FieldResult<{ kind: 'https'; url: string }> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad('is not a valid URL');
  }
  if (url.username !== '' || url.password !== '') {
    return bad(
      'carries credentials; annotations are readable by anyone who can read the Deployment, so use a URL without user:password',
    );
  }
  if (url.hostname === '') return bad('has no host');
  return ok({ kind: 'https', url: url.href });
}

export function parseSha256(value: string): FieldResult<string> {
  const normalized = value.trim().toLowerCase();
  return SHA256_HEX.test(normalized)
    ? ok(normalized)
    : bad('is not a sha256: expected 64 hexadecimal characters');
}

const JS_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `cloudbase.dev/handler`: a relative module path inside the workspace, optionally `#export`. */
export function parseHandler(value: string): FieldResult<FunctionHandler> {
  const parts = value.split('#');
  if (parts.length > 2)
    return bad("has more than one '#'; use <module path>[#<export>], e.g. index.js#handler");
  const [modulePath = '', exportName] = parts;
  const pathProblem = checkModulePath(modulePath);
  if (pathProblem !== undefined) return bad(pathProblem);
  if (exportName === undefined) return ok({ modulePath });
  if (!JS_IDENTIFIER.test(exportName)) {
    return bad(`names the export "${exportName}", which is not a JavaScript identifier`);
  }
  return ok({ modulePath, exportName });
}

function checkModulePath(path: string): string | undefined {
  if (path === '') return 'has an empty module path; use <module path>[#<export>], e.g. index.js#handler';
  if (path.startsWith('/'))
    return 'has an absolute module path; use a path relative to the function code, e.g. index.js';
  if (path.includes('\\')) return "uses '\\' in the module path; use '/'";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'has a control character in the module path';
  if (path.split('/').some((segment) => segment === '..')) {
    return "leaves the function code with '..'; use a path inside it";
  }
  if (path.length > 1024) return 'has a module path longer than 1024 characters';
  return undefined;
}

// Characters RFC 3986 allows in a path. The backtick is never among them, which matters: Traefik rules quote
// their arguments with backticks (https://doc.traefik.io/traefik/routing/routers/#rule).
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/** `cloudbase.dev/route`: the URL path prefix Traefik routes to the function; a trailing `/` is dropped. */
export function parseRoute(value: string): FieldResult<string> {
  if (!value.startsWith('/')) return bad("does not start with '/'; use a path such as /hello");
  if (/\s/.test(value)) return bad('contains whitespace; encode it as %20 or remove it');
  if (!PATH_CHARACTERS.test(value)) {
    return bad("contains a character not allowed in a URL path; use letters, digits and -._~!$&'()*+,;=:@%/");
  }
  if (value.includes('//')) return bad("contains an empty segment '//'");
  if (value.split('/').some((segment) => segment === '.' || segment === '..')) {
    return bad("contains a '.' or '..' segment");
  }
  if (value.length > 1024) return bad('is longer than 1024 characters');
  return ok(value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value);
}

/** `cloudbase.dev/host`: an exact host name (Traefik's `Host` matcher takes no wildcard). */
export function parseHost(value: string): FieldResult<string> {
  if (value.includes('*')) return bad('is a wildcard; Host matches one exact name, so name the host');
  if (value.includes(':')) return bad('contains a port or is an address; give the host name only');
  if (value !== value.toLowerCase()) return bad(`is not lowercase; use "${value.toLowerCase()}"`);
  return isDns1123Subdomain(value)
    ? ok(value)
    : bad("is not a valid host name (lowercase letters, digits, '-' and '.')");
}

const ENTRYPOINT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** `cloudbase.dev/entrypoints`: comma-separated Traefik entrypoint names. */
export function parseEntrypoints(value: string): FieldResult<string[]> {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === ''))
    return bad('has an empty entrypoint name; use e.g. web or web,websecure');
  const invalid = names.find((name) => !ENTRYPOINT.test(name));
  if (invalid !== undefined) {
    return bad(`has "${invalid}", which is not an entrypoint name (letters, digits, '.', '_' and '-')`);
  }
  return ok([...new Set(names)]);
}

const DURATION = /^(\d+)(ms|s|m)$/;
const MAX_TIMEOUT_MS = 3_600_000;

/** `cloudbase.dev/timeout`: how long one request may take, e.g. `500ms`, `30s`, `5m`; at most one hour. */
export function parseTimeout(value: string): FieldResult<number> {
  const match = DURATION.exec(value.trim());
  const unit = { ms: 1, s: 1000, m: 60_000 };
  const ms = match === null ? NaN : Number(match[1]) * unit[match[2] as keyof typeof unit];
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS) {
    return bad('is not a timeout; use a whole number of ms, s or m from 1ms to 60m, e.g. 30s');
  }
  return ok(ms);
}

/** A whole number from `min` to `max`, written plainly (no sign, no exponent, no leading zero). */
function parseWholeNumber(value: string, min: number, max: number, example: string): FieldResult<number> {
  const n = /^(0|[1-9]\d{0,6})$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return ok(n);
  return bad(`is not a whole number from ${min} to ${max}; use e.g. ${example}`);
}

/** `cloudbase.dev/min-scale`: the fewest pods; 0 lets the function scale to zero. */
export const parseMinScale = (value: string): FieldResult<number> =>
  parseWholeNumber(value, 0, MAX_SCALE_LIMIT, '0 or 2');

/** `cloudbase.dev/max-scale`: the most pods. */
export const parseMaxScale = (value: string): FieldResult<number> =>
  parseWholeNumber(value, 1, MAX_SCALE_LIMIT, '10');

/** `cloudbase.dev/concurrency`: requests in flight per pod the autoscaler aims at. */
export const parseConcurrency = (value: string): FieldResult<number> =>
  parseWholeNumber(value, 1, 100_000, '100, or 1 for a handler that uses its CPU for every request');

const LONG_DURATION = /^(\d+)(ms|s|m|h)$/;
const LONG_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDurationBetween(value: string, minMs: number, maxMs: number, bounds: string, example: string) {
  const match = LONG_DURATION.exec(value.trim());
  const ms = match === null ? NaN : Number(match[1]) * LONG_UNITS[match[2] as keyof typeof LONG_UNITS];
  if (!Number.isInteger(ms) || ms < minMs || ms > maxMs) {
    return bad<number>(`is not a duration ${bounds}; use a whole number of ms, s, m or h, e.g. ${example}`);
  }
  return ok(ms);
}

/** `cloudbase.dev/scale-to-zero-after`: how long without a request before the last pod goes. */
export const parseScaleToZeroAfter = (value: string): FieldResult<number> =>
  parseDurationBetween(value, 1000, 24 * 3_600_000, 'from 1s to 24h', '60s or 15m');

/** `cloudbase.dev/scale-window`: the autoscaler's stable window (Knative's `window`, same bounds). */
export const parseScaleWindow = (value: string): FieldResult<number> =>
  parseDurationBetween(value, MIN_SCALE_WINDOW_MS, MAX_SCALE_WINDOW_MS, 'from 6s to 1h', '60s');
