import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { list } from 'tar';
import { dependenciesKey as contractDependenciesKey } from '../contract/build.js';
import { LayerFile } from '../contract/runtime-env.js';
import {
  buildLayers,
  treeEntries,
  workspaceDependenciesKey as dependenciesKey,
  writeDependenciesKey,
  writeLayer,
} from './layers.js';

// Real folders under the system temp directory and real tarballs, read back with node-tar.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-layers-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function workspaceWith(root: string, files: Record<string, string>): Promise<string> {
  const workspace = path.join(root, 'workspace');
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(workspace, file)), { recursive: true });
    await writeFile(path.join(workspace, file), content);
  }
  return workspace;
}

const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

interface Listed {
  path: string;
  mode: number | undefined;
  uid: number | undefined;
  mtime: number | undefined;
}

async function entriesOf(file: string): Promise<Listed[]> {
  const out: Listed[] = [];
  await list({
    file,
    onReadEntry: (entry) =>
      out.push({ path: entry.path, mode: entry.mode, uid: entry.uid, mtime: entry.mtime?.getTime() }),
  });
  return out;
}

describe('dependenciesKey', () => {
  const files = {
    'package.json': '{"name":"f"}',
    'package-lock.json': '{"lockfileVersion":3}',
    'index.js': '1',
  };

  it('is absent without a lockfile', async () => {
    const workspace = await workspaceWith(dir, { 'package.json': '{}', 'index.js': '1' });
    expect(await dependenciesKey(workspace, 'salt')).toBeUndefined();
  });

  it('does not change with the code', async () => {
    const one = await workspaceWith(path.join(dir, 'a'), files);
    const other = await workspaceWith(path.join(dir, 'b'), { ...files, 'index.js': '2', 'more.js': '3' });
    expect(await dependenciesKey(one, 'salt')).toBe(await dependenciesKey(other, 'salt'));
  });

  it.each([
    ['package.json', { ...files, 'package.json': '{"name":"g"}' }, 'salt'],
    ['the lockfile', { ...files, 'package-lock.json': '{"lockfileVersion":2}' }, 'salt'],
    ['the salt (base image, builder)', files, 'other salt'],
  ])('changes with %s', async (_what, changed, salt) => {
    const one = await workspaceWith(path.join(dir, 'a'), files);
    const other = await workspaceWith(path.join(dir, 'b'), changed);
    expect(await dependenciesKey(other, salt)).not.toBe(await dependenciesKey(one, 'salt'));
  });
});

describe('writeLayer', () => {
  it('gives the same bytes for the same files, whatever their times and the order they were made in', async () => {
    const one = await workspaceWith(path.join(dir, 'a'), { 'b.js': 'b', 'a.js': 'a', 'lib/c.js': 'c' });
    const other = await workspaceWith(path.join(dir, 'b'), { 'lib/c.js': 'c', 'a.js': 'a', 'b.js': 'b' });
    await utimes(path.join(other, 'a.js'), new Date(2020, 1, 1), new Date(2021, 1, 1));
    for (const [workspace, out] of [
      [one, 'one.tar'],
      [other, 'other.tar'],
    ] as const) {
      await writeLayer(
        path.dirname(workspace),
        await treeEntries(workspace, () => true),
        path.join(dir, out),
      );
    }
    expect(await sha256(path.join(dir, 'one.tar'))).toBe(await sha256(path.join(dir, 'other.tar')));
  });

  it('writes sorted entries under workspace/, at the epoch, owned by root, group and other not writing', async () => {
    const workspace = await workspaceWith(dir, { 'z.js': 'z', 'bin/run': '#!/bin/sh', 'a.js': 'a' });
    await chmod(path.join(workspace, 'bin/run'), 0o775);
    await chmod(path.join(workspace, 'a.js'), 0o666);
    await writeLayer(dir, await treeEntries(workspace, () => true), path.join(dir, 'layer.tar'));
    const entries = await entriesOf(path.join(dir, 'layer.tar'));
    expect(entries.map((e) => e.path)).toEqual([
      'workspace/',
      'workspace/a.js',
      'workspace/bin/',
      'workspace/bin/run',
      'workspace/z.js',
    ]);
    expect(entries.find((e) => e.path === 'workspace/bin/run')?.mode).toBe(0o755);
    expect(entries.find((e) => e.path === 'workspace/a.js')?.mode).toBe(0o644);
    expect(entries.every((e) => (e.uid ?? 0) === 0)).toBe(true);
    expect(entries.filter((e) => e.mtime !== undefined).every((e) => e.mtime === 0)).toBe(true);
  });

  it('keeps a symbolic link as a link (node_modules/.bin)', async () => {
    const workspace = await workspaceWith(dir, { 'node_modules/x/cli.js': '1' });
    await mkdir(path.join(workspace, 'node_modules/.bin'));
    await symlink('../x/cli.js', path.join(workspace, 'node_modules/.bin/x'));
    await writeLayer(dir, await treeEntries(workspace, () => true), path.join(dir, 'layer.tar'));
    const types: string[] = [];
    await list({ file: path.join(dir, 'layer.tar'), onReadEntry: (e) => types.push(`${e.path} ${e.type}`) });
    expect(types).toContain('workspace/node_modules/.bin/x SymbolicLink');
  });
});

describe('buildLayers', () => {
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);
  beforeEach(() => void lines.splice(0));

  it('without a lockfile writes only the code layer', async () => {
    const workspace = await workspaceWith(dir, { 'index.js': '1', 'package.json': '{}' });
    const out = path.join(dir, 'out');
    expect(await buildLayers(workspace, out, { log })).toEqual({ dependencies: 'none', codeEntries: 3 });
    expect((await entriesOf(path.join(out, LayerFile.code))).map((e) => e.path)).toEqual([
      'workspace/',
      'workspace/index.js',
      'workspace/package.json',
    ]);
    await expect(readFile(path.join(out, LayerFile.deps))).rejects.toThrow(/ENOENT/);
  });

  it('runs no npm ci when the dependencies layer is in the registry, and says so', async () => {
    const workspace = await workspaceWith(dir, {
      'index.js': '1',
      'package.json': '{}',
      'package-lock.json': '{}',
      'node_modules/stale/index.js': 'shipped with the source',
    });
    const out = path.join(dir, 'out');
    await writeDependenciesKey(workspace, out, 'salt', log);
    await writeFile(path.join(out, LayerFile.depsCached), `sha256:${'c'.repeat(64)}\n`);
    // npm is a command that fails: were it run, the step would fail.
    const result = await buildLayers(workspace, out, { log, npm: path.join(dir, 'no-npm-here') });
    expect(result.dependencies).toBe('cached');
    expect(lines.join('\n')).toMatch(/is in the registry \(sha256:c{64}\): no npm ci/);
    const paths = (await entriesOf(path.join(out, LayerFile.code))).map((e) => e.path);
    expect(paths).toEqual([
      'workspace/',
      'workspace/index.js',
      'workspace/package-lock.json',
      'workspace/package.json',
    ]);
  });

  it('installs when the layer is not cached, and fails naming npm when it cannot run', async () => {
    const workspace = await workspaceWith(dir, { 'package.json': '{}', 'package-lock.json': '{}' });
    const out = path.join(dir, 'out');
    await writeDependenciesKey(workspace, out, 'salt', log);
    await expect(buildLayers(workspace, out, { log, npm: path.join(dir, 'no-npm-here') })).rejects.toThrow(
      /cannot run npm/,
    );
  });
});

describe('the dependencies key of a workspace and of a ConfigMap', () => {
  it('is the same for the same files, so the controller can name the layer the build step makes', async () => {
    const files = { 'package.json': '{"name":"f"}', 'package-lock.json': '{"lockfileVersion":3}' };
    const workspace = await workspaceWith(dir, { ...files, 'index.js': '1' });
    expect(await dependenciesKey(workspace, 'salt')).toBe(
      contractDependenciesKey(
        files['package.json'],
        { name: 'package-lock.json', content: files['package-lock.json'] },
        'salt',
      ),
    );
  });
});
