import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeExports, loadUserExport, pickExport, resolveModuleFile } from './loader.js';
import { TESTDATA } from './testdata/request.js';

describe('resolveModuleFile', () => {
  it.each([
    ['fission/nodejs/hello.js', 'fission/nodejs/hello.js'],
    ['fission/nodejs/hello', 'fission/nodejs/hello.js'],
    ['fetch/worker/worker', 'fetch/worker/worker.mjs'],
    ['openfaas/node20', 'openfaas/node20/handler.js'],
    ['knative/http', 'knative/http/index.js'],
  ])('finds %s as %s', async (modulePath, expected) => {
    await expect(resolveModuleFile(TESTDATA, modulePath)).resolves.toBe(path.join(TESTDATA, expected));
  });

  it('names every path it tried when nothing exists', async () => {
    const base = path.join(TESTDATA, 'nope');
    await expect(resolveModuleFile(TESTDATA, 'nope')).rejects.toThrow(
      `handler module nope not found in ${TESTDATA} (tried ${base}, ${base}.js, ${base}.mjs, ${base}.cjs, ${base}/index.js, ${base}/index.mjs, ${base}/index.cjs)`,
    );
  });
});

describe('resolveModuleFile inside the workspace', () => {
  let root: string;
  let workspace: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-resolve-'));
    workspace = path.join(root, 'workspace');
    await mkdir(path.join(workspace, 'escape'), { recursive: true });
    await writeFile(path.join(workspace, 'index.js'), 'module.exports = () => "in";');
    await writeFile(path.join(workspace, 'escape', 'package.json'), '{"main":"../../outside.js"}');
    // Files next to the workspace that a careless resolution would pick.
    await writeFile(path.join(root, 'outside.js'), 'module.exports = () => "out";');
    await writeFile(path.join(root, 'workspace.js'), 'module.exports = () => "out";');
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('reads "." as the package of the workspace, never as <workspace>.js', async () => {
    await expect(resolveModuleFile(workspace, '.')).resolves.toBe(path.join(workspace, 'index.js'));
  });

  it('refuses a module path that leaves the workspace', async () => {
    await expect(resolveModuleFile(workspace, '../outside.js')).rejects.toThrow(
      `handler module ../outside.js resolves to ${path.join(root, 'outside.js')}, outside the workspace ${workspace}`,
    );
  });

  it('refuses a package.json "main" that leaves the workspace', async () => {
    await expect(resolveModuleFile(workspace, 'escape')).rejects.toThrow(
      `handler module escape: the "main" "../../outside.js" of ${path.join(workspace, 'escape', 'package.json')} resolves to ${path.join(root, 'outside.js')}, outside the workspace ${workspace}`,
    );
  });
});

describe('pickExport', () => {
  const fn = (): void => undefined;
  const other = (): void => undefined;

  it.each([
    ['the default export without #', { default: fn }, undefined, 'fetch', 'default', fn],
    ['a named ESM export', { default: undefined, hello: fn }, 'hello', 'fetch', 'hello', fn],
    ['a property of module.exports', { default: { hello: fn } }, 'hello', 'openfaas', 'default.hello', fn],
    [
      'knative handle when there is no #',
      { default: { handle: fn }, handle: fn },
      undefined,
      'knative',
      'handle',
      fn,
    ],
    [
      'knative handle of module.exports',
      { default: { handle: fn } },
      undefined,
      'knative',
      'default.handle',
      fn,
    ],
    [
      'module.exports itself for kubeless when it is a function',
      { default: fn },
      'whatever',
      'kubeless',
      'default',
      fn,
    ],
    ['the named export over the default', { default: other, hello: fn }, 'hello', 'fission', 'hello', fn],
  ] as const)('picks %s', (_name, ns, exportName, signature, label, value) => {
    expect(pickExport(ns, exportName, signature)).toEqual({ exportLabel: label, value });
  });

  it('lists the exports when the named one is missing', () => {
    expect(
      pickExport({ default: { first: fn, second: fn }, first: fn, second: fn }, 'third', 'kubeless'),
    ).toEqual({
      error: 'has no export "third"; exports found: default (object: first, second)',
    });
  });

  it('asks for a name when an ESM module has no default export', () => {
    expect(pickExport({ a: 1, b: fn }, undefined, 'fetch')).toEqual({
      error:
        'has no default export (module.exports); exports found: a, b; name the export after "#", e.g. <file>#<export>',
    });
  });

  it('describes an empty module', () => {
    expect(describeExports({})).toBe('the module exports nothing');
  });
});

describe('loadUserExport', () => {
  it('loads an ESM module (package.json "type": "module")', async () => {
    const loaded = await loadUserExport(
      TESTDATA,
      { modulePath: 'fetch/esm/handler.js', exportName: 'named' },
      'fetch',
    );
    expect(loaded.file).toBe(path.join(TESTDATA, 'fetch/esm/handler.js'));
    expect(loaded.exportLabel).toBe('named');
    expect(typeof loaded.value).toBe('function');
  });

  it('loads a CommonJS module and a property of module.exports', async () => {
    const loaded = await loadUserExport(
      TESTDATA,
      { modulePath: 'kubeless/nodejs/handler.js', exportName: 'foo' },
      'kubeless',
    );
    expect(loaded.exportLabel).toMatch(/^(default\.)?foo$/);
    expect(typeof loaded.value).toBe('function');
  });

  it('names the file and the exports found when the export is missing', async () => {
    const file = path.join(TESTDATA, 'broken/cjs/object.js');
    await expect(
      loadUserExport(TESTDATA, { modulePath: 'broken/cjs/object.js', exportName: 'third' }, 'kubeless'),
    ).rejects.toThrow(
      `handler module ${file} has no export "third"; exports found: default (object: first, second)`,
    );
  });

  it('says which exports exist when an ESM module has no default', async () => {
    const file = path.join(TESTDATA, 'broken/esm/nodefault.js');
    await expect(
      loadUserExport(TESTDATA, { modulePath: 'broken/esm/nodefault.js', exportName: undefined }, 'fetch'),
    ).rejects.toThrow(
      `handler module ${file} has no default export (module.exports); exports found: a, b; name the export after "#", e.g. <file>#<export>`,
    );
  });

  it('explains a missing dependency', async () => {
    await expect(
      loadUserExport(TESTDATA, { modulePath: 'broken/esm/missingdep.js', exportName: undefined }, 'fetch'),
    ).rejects.toThrow(
      /^failed to load .*missingdep\.js: .*left-pad-that-is-not-installed.*\(a dependency is missing: list it in package.json and commit a package-lock.json so the install step runs npm ci\)$/s,
    );
  });

  describe('with a syntax error in the module', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-loader-'));
      await writeFile(path.join(dir, 'broken.mjs'), 'export default async function (request {\n');
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it('names the file and the syntax error', async () => {
      await expect(
        loadUserExport(dir, { modulePath: 'broken.mjs', exportName: undefined }, 'fetch'),
      ).rejects.toThrow(new RegExp(`^failed to load ${path.join(dir, 'broken.mjs')}: SyntaxError: `));
    });
  });
});
