import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { runCli, USAGE } from './cli.js';

describe('cloudbase-runtime', () => {
  let dir: string;
  let terminationLog: string;
  const stderr: string[] = [];
  const io = (): { stderr: (line: string) => void; terminationLog: string } => ({
    stderr: (line) => void stderr.push(line),
    terminationLog,
  });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-cli-'));
    terminationLog = path.join(dir, 'termination-log');
    await writeFile(terminationLog, '');
    stderr.length = 0;
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it.each([
    [[], USAGE],
    [['compile'], `cloudbase-runtime: unknown arguments "compile"; ${USAGE}`],
    [['fetch', 'extra'], `cloudbase-runtime: unknown arguments "fetch extra"; ${USAGE}`],
  ])('exits 2 with the usage for %j', async (argv, line) => {
    expect(await runCli(argv, {}, io())).toBe(2);
    expect(stderr).toEqual([line]);
  });

  it('exits 1 with one line on stderr and in the termination log when fetch fails', async () => {
    const source = path.join(dir, 'missing');
    const code = await runCli(
      ['fetch'],
      {
        CLOUDBASE_SOURCE: 'configmap:hello-src',
        CLOUDBASE_SOURCE_DIR: source,
        CLOUDBASE_WORKSPACE: path.join(dir, 'ws'),
      },
      io(),
    );
    const line = `cloudbase fetch: cannot read the ConfigMap hello-src at ${source}: ENOENT: no such file or directory, scandir '${source}'; is it mounted?`;
    expect(code).toBe(1);
    expect(stderr).toEqual([line]);
    expect(await readFile(terminationLog, 'utf8')).toBe(`${line}\n`);
  });

  it('build fetches, then installs; a failure names the step it happened in', async () => {
    const source = path.join(dir, 'source');
    const workspace = path.join(dir, 'ws');
    await mkdir(source);
    await writeFile(path.join(source, 'index.js'), 'export default () => "hi";');
    const env = {
      CLOUDBASE_SOURCE: 'configmap:hello-src',
      CLOUDBASE_SOURCE_DIR: source,
      CLOUDBASE_WORKSPACE: workspace,
    };
    expect(await runCli(['build'], env, io())).toBe(0);
    expect(await readFile(path.join(workspace, 'index.js'), 'utf8')).toBe('export default () => "hi";');

    const missing = path.join(dir, 'missing');
    expect(await runCli(['build'], { ...env, CLOUDBASE_SOURCE_DIR: missing }, io())).toBe(1);
    expect(stderr).toEqual([expect.stringMatching(/^cloudbase fetch: cannot read the ConfigMap hello-src/)]);
  });

  it('exits 1 naming the variable when the fetch source is invalid', async () => {
    expect(
      await runCli(['fetch'], { CLOUDBASE_SOURCE: 'ftp://x/y.tgz', CLOUDBASE_WORKSPACE: dir }, io()),
    ).toBe(1);
    expect(stderr).toEqual([
      'cloudbase fetch: CLOUDBASE_SOURCE="ftp://x/y.tgz" is not valid: only https:// URLs are fetched',
    ]);
  });

  it('exits 0 when install has nothing to do', async () => {
    const out = jestStdout();
    try {
      expect(await runCli(['install'], { CLOUDBASE_WORKSPACE: dir }, io())).toBe(0);
    } finally {
      out.restore();
    }
    expect(out.text()).toBe(
      `cloudbase install: no package-lock.json or npm-shrinkwrap.json in ${dir}; nothing to install\n`,
    );
    expect(stderr).toEqual([]);
  });

  it('writes the end of a build step where CLOUDBASE_BUILD_DONE says: 0, or 1 and its line', async () => {
    const source = path.join(dir, 'src');
    await mkdir(source);
    await writeFile(path.join(source, 'index.js'), 'export default () => "hi";');
    const done = path.join(dir, 'out', 'code.done');
    const env = {
      CLOUDBASE_SOURCE: 'configmap:hello-src',
      CLOUDBASE_SOURCE_DIR: source,
      CLOUDBASE_WORKSPACE: path.join(dir, 'ws'),
      CLOUDBASE_BUILD_OUT: path.join(dir, 'out'),
      CLOUDBASE_BUILD_DONE: done,
    };
    expect(await runCli(['code'], env, io())).toBe(0);
    expect(await readFile(done, 'utf8')).toBe('0\n');
    await readFile(path.join(dir, 'out', 'code.tar'));
    const failed = { ...env, CLOUDBASE_SOURCE_DIR: path.join(dir, 'missing') };
    expect(await runCli(['code'], failed, io())).toBe(1);
    expect(await readFile(done, 'utf8')).toMatch(/^1 cloudbase fetch: .+\n$/);
  });
});

/** Captures process.stdout while a step logs there. */
function jestStdout(): { text: () => string; restore: () => void } {
  const original = process.stdout.write.bind(process.stdout);
  let captured = '';
  const capture = (chunk: string | Uint8Array): boolean => {
    captured += chunk.toString();
    return true;
  };
  process.stdout.write = capture;
  return { text: () => captured, restore: () => void (process.stdout.write = original) };
}
