/**
 * The image build's steps in the runtime image (src/builder/job.ts runs them): after `fetch`,
 * - `deps-key` names the dependencies layer by what `npm ci` installs from (package.json, the lockfile) and
 *   what it installs onto (the base image and the builder), so the build Job can look it up in the registry;
 * - `layers` runs `npm ci` unless that layer is there already, and writes the layers as tarballs: the
 *   dependencies (`node_modules`) and the code (everything else).
 * The tarballs are deterministic: entries sorted, times at the epoch, no owners (root), no write bit for group or other, so
 * the same files always give the same layer digest, hence the same image digest.
 */
import { lstat, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create } from 'tar';
import { dependenciesKey } from '../contract/build.js';
import { LayerFile } from '../contract/runtime-env.js';
import { LOCKFILES } from '../contract/source-files.js';
import { BuildFailure } from './failure.js';
import { install, type InstallOptions } from './install.js';

const DEPENDENCIES = 'node_modules';

/** The dependencies layer's key (contract/build.ts), or undefined without a lockfile (nothing to install). */
export async function workspaceDependenciesKey(workspace: string, salt: string): Promise<string | undefined> {
  const lockfile = await firstExisting(workspace, LOCKFILES);
  if (lockfile === undefined) return undefined;
  const packageJson = await readFile(path.join(workspace, 'package.json')).catch(() => undefined);
  const content = await readFile(path.join(workspace, lockfile));
  return dependenciesKey(packageJson, { name: lockfile, content }, salt);
}

/** Every path under `root` (folders before what they hold), relative to `root`'s parent, sorted. */
export async function treeEntries(root: string, include: (relative: string) => boolean): Promise<string[]> {
  const base = path.basename(root);
  const out: string[] = [base];
  const walk = async (dir: string, relative: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const rel = relative === '' ? name : `${relative}/${name}`;
      if (!include(rel)) continue;
      out.push(`${base}/${rel}`);
      const stat = await lstat(path.join(dir, name));
      if (stat.isDirectory()) await walk(path.join(dir, name), rel);
    }
  };
  await walk(root, '');
  return out;
}

/** Writes `entries` (relative to `cwd`) as an uncompressed tarball that depends only on their content. */
export async function writeLayer(cwd: string, entries: readonly string[], file: string): Promise<void> {
  await create(
    {
      cwd,
      file,
      portable: true,
      noDirRecurse: true,
      // Portable: no owners, no access or change times, group and other never writable (modes come from the
      // fetch step and npm, which write them the same way every time).
      mtime: new Date(0),
    },
    [...entries],
  );
}

export const isDependency = (relative: string): boolean =>
  relative === DEPENDENCIES || relative.startsWith(`${DEPENDENCIES}/`);

export interface LayersResult {
  /** `cached`: the registry has the dependencies layer; `installed`: built now; `none`: no lockfile. */
  dependencies: 'cached' | 'installed' | 'none';
  codeEntries: number;
}

/**
 * The `layers` step: `npm ci` into the workspace unless the cache check found the dependencies image, then
 * the dependencies tarball (when installed now) and the code tarball into `outDir`.
 */
export async function buildLayers(
  workspace: string,
  outDir: string,
  options: InstallOptions = {},
): Promise<LayersResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  await mkdir(outDir, { recursive: true });
  const key = await readFile(path.join(outDir, LayerFile.depsKey), 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  const cached = await readFile(path.join(outDir, LayerFile.depsCached), 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  // A node_modules that came with the source is never part of the image: npm ci makes the one to run.
  await rm(path.join(workspace, DEPENDENCIES), { recursive: true, force: true });
  let dependencies: LayersResult['dependencies'] = 'none';
  if (key !== undefined && cached !== '') {
    dependencies = 'cached';
    log(`cloudbase layers: the dependencies layer deps-${key} is in the registry (${cached}): no npm ci`);
  } else if (key !== undefined) {
    if ((await install(workspace, options)) !== 'installed')
      throw new BuildFailure(`a dependencies key was written for ${workspace}, which has no lockfile`);
    const deps = await treeEntries(workspace, (rel) => isDependency(rel));
    await writeLayer(path.dirname(workspace), deps, path.join(outDir, LayerFile.deps));
    dependencies = 'installed';
    log(`cloudbase layers: dependencies layer of ${deps.length} entries`);
  }
  const code = await treeEntries(workspace, (rel) => !isDependency(rel));
  await writeLayer(path.dirname(workspace), code, path.join(outDir, LayerFile.code));
  log(`cloudbase layers: code layer of ${code.length} entries`);
  return { dependencies, codeEntries: code.length };
}

/** The `deps-key` step: writes the dependencies key to `outDir` when the workspace has a lockfile. */
export async function writeDependenciesKey(
  workspace: string,
  outDir: string,
  salt: string,
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<string | undefined> {
  await mkdir(outDir, { recursive: true });
  const key = await workspaceDependenciesKey(workspace, salt);
  if (key === undefined) {
    log('cloudbase deps-key: no lockfile, so no dependencies layer');
    return undefined;
  }
  await writeFile(path.join(outDir, LayerFile.depsKey), `${key}\n`);
  log(`cloudbase deps-key: dependencies layer deps-${key}`);
  return key;
}

async function firstExisting(dir: string, files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    const found = await lstat(path.join(dir, file)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (found) return file;
  }
  return undefined;
}
