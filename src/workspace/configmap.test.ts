import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { copyConfigMap, decodeConfigMapKey } from './configmap.js';

describe('decodeConfigMapKey', () => {
  it.each([
    ['handler.js', 'handler.js'],
    ['lib__util.js', 'lib/util.js'],
    ['src__lib__deep.mjs', 'src/lib/deep.mjs'],
    ['package.json', 'package.json'],
    ['.npmrc', '.npmrc'],
  ])('decodes %s to %s', (key, expected) => {
    expect(decodeConfigMapKey(key)).toEqual({ path: expected });
  });

  it.each([
    ['..__etc__passwd', 'key "..__etc__passwd" decodes to "../etc/passwd", which leaves the workspace'],
    ['lib__..__..__x', 'key "lib__..__..__x" decodes to "lib/../../x", which leaves the workspace'],
    ['__abs.js', 'key "__abs.js" has an empty path segment (leading, trailing or doubled "__")'],
    ['a____b', 'key "a____b" has an empty path segment (leading, trailing or doubled "__")'],
    ['/etc/passwd', 'key "/etc/passwd" contains a path separator; encode directories with "__"'],
  ])('refuses %s', (key, error) => {
    expect(decodeConfigMapKey(key)).toEqual({ error });
  });
});

/** Lays out a directory the way the kubelet mounts a ConfigMap: keys are symlinks through `..data`. */
async function kubeletConfigMapVolume(dir: string, data: Record<string, string>): Promise<void> {
  const stamp = '..2024_05_01_10_00_00.123456789';
  await mkdir(path.join(dir, stamp), { recursive: true });
  for (const [key, value] of Object.entries(data)) await writeFile(path.join(dir, stamp, key), value);
  await symlink(stamp, path.join(dir, '..data'));
  for (const key of Object.keys(data)) await symlink(path.join('..data', key), path.join(dir, key));
}

describe('copyConfigMap', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-cm-'));
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('copies the keys of a kubelet-style volume into the workspace, decoding nested paths', async () => {
    const source = path.join(root, 'source');
    const workspace = path.join(root, 'workspace');
    await kubeletConfigMapVolume(source, {
      'handler.js': 'module.exports = 1;',
      'lib__util.js': 'util',
      'package.json': '{}',
    });
    await mkdir(workspace);
    expect(await copyConfigMap(source, workspace, 'hello-src')).toEqual([
      'handler.js',
      'lib/util.js',
      'package.json',
    ]);
    expect(await readFile(path.join(workspace, 'lib/util.js'), 'utf8')).toBe('util');
    expect(await readFile(path.join(workspace, 'handler.js'), 'utf8')).toBe('module.exports = 1;');
  });

  it('fails naming the ConfigMap when the volume is missing', async () => {
    const dir = path.join(root, 'absent');
    await expect(copyConfigMap(dir, root, 'hello-src')).rejects.toThrow(
      `cannot read the ConfigMap hello-src at ${dir}: ENOENT: no such file or directory, scandir '${dir}'; is it mounted?`,
    );
  });

  it('fails when the ConfigMap has no keys', async () => {
    const source = path.join(root, 'source');
    await kubeletConfigMapVolume(source, {});
    await expect(copyConfigMap(source, root, 'empty')).rejects.toThrow(
      `the ConfigMap empty mounted at ${source} has no keys; add the function's files to it`,
    );
  });

  it('refuses keys that would leave the workspace, before writing anything', async () => {
    const source = path.join(root, 'source');
    const workspace = path.join(root, 'workspace');
    // A valid ConfigMap key (Kubernetes only refuses keys that start with "..") that climbs out once decoded.
    await kubeletConfigMapVolume(source, { 'a.js': 'a', 'lib__..__..__evil.js': 'x' });
    await expect(copyConfigMap(source, workspace, 'bad')).rejects.toThrow(
      'the ConfigMap bad has keys that are not file paths: key "lib__..__..__evil.js" decodes to "lib/../../evil.js", which leaves the workspace',
    );
    await expect(readFile(path.join(workspace, 'a.js'))).rejects.toThrow('ENOENT');
  });
});
