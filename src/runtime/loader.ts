/**
 * Loads the user's module from the workspace and picks the export the signature calls.
 * The import is thin I/O; resolving the file and picking the export are separate, testable steps.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Signature } from '../contract/function-spec.js';
import type { HandlerRef } from './config.js';

/** The handler cannot be loaded; the message names the file or export and what was found instead. */
export class HandlerLoadError extends Error {
  override name = 'HandlerLoadError';
}

/** The module namespace `import()` gives: for CommonJS, `default` is `module.exports`. */
export type ModuleNamespace = Readonly<Record<string, unknown>>;

/** What the loader picked and where from, for logs and error messages. */
export interface LoadedExport {
  file: string;
  /** e.g. `default`, `handle`, `module.exports.hello`. */
  exportLabel: string;
  value: unknown;
}

const EXTENSIONS = ['', '.js', '.mjs', '.cjs'];

/**
 * Finds the module file like `require` would for a relative path: the exact file, then with `.js`, `.mjs`,
 * `.cjs`, then a directory's package.json `main` or `index.*`. Fission and kubeless users name modules
 * without an extension, so this matters. Every candidate must stay inside the workspace: the contract
 * refuses absolute paths and `..` in the handler, but `.` (the workspace's own package) must not become
 * `<workspace>.js`, and a package.json `main` can point anywhere.
 */
export async function resolveModuleFile(workspace: string, modulePath: string): Promise<string> {
  const base = path.resolve(workspace, modulePath);
  if (!isInside(workspace, base)) {
    throw new HandlerLoadError(
      `handler module ${modulePath} resolves to ${base}, outside the workspace ${workspace}`,
    );
  }
  const tried: string[] = [];
  const files = base === path.resolve(workspace) ? [] : EXTENSIONS.map((ext) => base + ext);
  for (const candidate of files) {
    tried.push(candidate);
    if (await isFile(candidate)) return candidate;
  }
  const main = await readPackageMain(base);
  const mainFile = main !== undefined ? path.resolve(base, main) : undefined;
  if (mainFile !== undefined && !isInside(workspace, mainFile)) {
    throw new HandlerLoadError(
      `handler module ${modulePath}: the "main" ${JSON.stringify(main)} of ${path.join(base, 'package.json')} resolves to ${mainFile}, outside the workspace ${workspace}`,
    );
  }
  const indexes = [
    ...(mainFile !== undefined ? [mainFile] : []),
    ...EXTENSIONS.slice(1).map((e) => path.join(base, `index${e}`)),
  ];
  for (const candidate of indexes) {
    tried.push(candidate);
    if (await isFile(candidate)) return candidate;
  }
  throw new HandlerLoadError(
    `handler module ${modulePath} not found in ${workspace} (tried ${tried.join(', ')})`,
  );
}

/** `file` is `dir` itself or below it (a lexical check; both are resolved first). */
function isInside(dir: string, file: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Imports the module (CommonJS or ESM, as Node decides from the extension and package.json "type"). */
export async function importModule(file: string): Promise<ModuleNamespace> {
  try {
    return (await import(pathToFileURL(file).href)) as ModuleNamespace;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const hint =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? ' (a dependency is missing: list it in package.json and commit a package-lock.json so the install step runs npm ci)'
        : '';
    throw new HandlerLoadError(`failed to load ${file}: ${errorText(err)}${hint}`);
  }
}

/**
 * Picks the export to call. With `#name`: that named export, or for CommonJS the property of
 * `module.exports` (kubeless: `module.exports` itself when it is a function). Without: the default export /
 * `module.exports`; for knative `handle` when present (func's Node.js template exports `{ handle }`).
 * Returns the reason when nothing fits.
 */
export function pickExport(
  ns: ModuleNamespace,
  exportName: string | undefined,
  signature: Signature,
): Omit<LoadedExport, 'file'> | { error: string } {
  const container = ns.default;
  const containerKeys = isObjectLike(container) ? Object.keys(container) : [];
  const fromContainer = (name: string): unknown =>
    isObjectLike(container) ? (container as Record<string, unknown>)[name] : undefined;
  if (exportName !== undefined) {
    if (ns[exportName] !== undefined) return { exportLabel: exportName, value: ns[exportName] };
    if (containerKeys.includes(exportName))
      return { exportLabel: `default.${exportName}`, value: fromContainer(exportName) };
    // kubeless calls module.exports itself when it is a function, whatever the handler's name.
    if (signature === 'kubeless' && typeof container === 'function')
      return { exportLabel: 'default', value: container };
    return { error: `has no export ${JSON.stringify(exportName)}; ${describeExports(ns)}` };
  }
  if (signature === 'knative') {
    if (typeof ns.handle === 'function') return { exportLabel: 'handle', value: ns.handle };
    if (typeof fromContainer('handle') === 'function')
      return { exportLabel: 'default.handle', value: fromContainer('handle') };
  }
  if (container !== undefined) return { exportLabel: 'default', value: container };
  return {
    error: `has no default export (module.exports); ${describeExports(ns)}; name the export after "#", e.g. <file>#<export>`,
  };
}

/** `exports found: default (object: a, b), c` — what a user needs to fix the handler annotation. */
export function describeExports(ns: ModuleNamespace): string {
  const parts: string[] = [];
  const container = ns.default;
  if (container !== undefined) {
    const keys = isObjectLike(container) ? Object.keys(container) : [];
    parts.push(`default (${typeof container}${keys.length > 0 ? `: ${keys.join(', ')}` : ''})`);
  }
  for (const name of Object.keys(ns)) {
    if (name !== 'default' && !(isObjectLike(container) && name in container)) parts.push(name);
  }
  return parts.length > 0 ? `exports found: ${parts.join(', ')}` : 'the module exports nothing';
}

/** Resolves, imports and picks: the one call `serve` makes. */
export async function loadUserExport(
  workspace: string,
  handler: HandlerRef,
  signature: Signature,
): Promise<LoadedExport> {
  const file = await resolveModuleFile(workspace, handler.modulePath);
  const ns = await importModule(file);
  const picked = pickExport(ns, handler.exportName, signature);
  if ('error' in picked) throw new HandlerLoadError(`handler module ${file} ${picked.error}`);
  return { file, ...picked };
}

/** Short description of a value for "expected X, got Y" messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length > 0 ? `an object with keys ${keys.join(', ')}` : 'an empty object';
  }
  return `a ${typeof value}`;
}

/** `Name: message` of a thrown value. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isObjectLike(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function readPackageMain(dir: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { main?: unknown };
    return typeof pkg.main === 'string' ? pkg.main : undefined;
  } catch {
    return undefined;
  }
}
