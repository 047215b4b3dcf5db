import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { decideEntry, extractTarGz, isNpmLayout, safeRelativePath } from './extract.js';
import { tarArchive, tarEntry } from './testdata/tar.js';

const MiB = 1024 * 1024;

/** Every path below `dir`, relative and sorted, directories with a trailing `/`. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)) + (e.isDirectory() ? '/' : ''))
    .sort();
}

describe('extractTarGz', () => {
  let workspace: string;
  beforeEach(async () => {
    workspace = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-extract-'));
  });
  afterEach(async () => rm(workspace, { recursive: true, force: true }));

  const extract = (entries: Buffer[], max = MiB): ReturnType<typeof extractTarGz> =>
    extractTarGz(gzipSync(tarArchive(entries)), workspace, max);

  it('strips the single top-level package/ directory of npm tarballs and normalises modes', async () => {
    const result = await extract([
      tarEntry('package/', '', '5'),
      tarEntry('package/lib/', '', '5', 0o700),
      tarEntry('package/lib/a.js', 'a', '0', 0o600),
      tarEntry('package/run.sh', '#!', '0', 0o744),
    ]);
    expect(result).toEqual({ files: ['lib/a.js', 'run.sh'], skipped: [] });
    expect(await tree(workspace)).toEqual(['lib/', 'lib/a.js', 'run.sh']);
    expect(await readFile(path.join(workspace, 'lib/a.js'), 'utf8')).toBe('a');
    const mode = async (rel: string): Promise<number> => (await stat(path.join(workspace, rel))).mode & 0o777;
    expect([await mode('lib'), await mode('lib/a.js'), await mode('run.sh')]).toEqual([0o755, 0o644, 0o755]);
  });

  it('keeps paths as they are when not everything is under package/', async () => {
    const result = await extract([tarEntry('./package/a.js', 'a'), tarEntry('./index.js', 'i')]);
    expect(result.files).toEqual(['package/a.js', 'index.js']);
    expect(await tree(workspace)).toEqual(['index.js', 'package/', 'package/a.js']);
  });

  it('reads a pax path longer than 100 characters', async () => {
    const long = `package/${'d'.repeat(120)}/index.js`;
    const result = await extract([
      tarEntry('PaxHeader', paxRecord('path', long), 'x'),
      tarEntry('ignored-short-name', 'x'),
    ]);
    expect(result.files).toEqual([long.slice('package/'.length)]);
  });

  it('reads a GNU long name', async () => {
    const long = `${'n'.repeat(150)}.js`;
    const result = await extract([tarEntry('././@LongLink', `${long}\0`, 'L'), tarEntry('short', 'x')]);
    expect(result.files).toEqual([long]);
    expect(await readFile(path.join(workspace, long), 'utf8')).toBe('x');
  });

  it('skips symbolic links, hard links and devices instead of creating them', async () => {
    const result = await extract([
      tarEntry('index.js', 'i'),
      tarEntry('evil', '', '2', 0o777, '/etc/passwd'),
      tarEntry('hard', '', '1', 0o644, 'index.js'),
      tarEntry('dev', '', '3'),
      tarEntry('fifo', '', '6'),
    ]);
    expect(result).toEqual({ files: ['index.js'], skipped: ['evil', 'hard', 'dev', 'fifo'] });
    expect(await tree(workspace)).toEqual(['index.js']);
  });

  it.each([
    ['../escape.js', 'the tarball entry "../escape.js" leaves the workspace'],
    ['package/../../escape.js', 'the tarball entry "package/../../escape.js" leaves the workspace'],
    ['/etc/cron.d/x', 'the tarball entry "/etc/cron.d/x" is an absolute path'],
  ])('refuses the entry %s and writes nothing', async (name, message) => {
    await expect(extract([tarEntry('first.js', 'f'), tarEntry(name, 'x')])).rejects.toThrow(message);
    expect(await tree(workspace)).toEqual([]);
  });

  it('fails when the archive unpacks to more than the limit, naming it, and writes nothing', async () => {
    await expect(extract([tarEntry('big.js', 'x'.repeat(4096))], 2048)).rejects.toThrow(
      'the tarball unpacks to more than 2048 bytes',
    );
    expect(await tree(workspace)).toEqual([]);
  });

  it('fails when there are too many entries', async () => {
    const gz = gzipSync(tarArchive([tarEntry('a.js'), tarEntry('b.js'), tarEntry('c.js')]));
    await expect(extractTarGz(gz, workspace, MiB, 2)).rejects.toThrow('the tarball has more than 2 entries');
  });

  it('refuses gzip data that is not a tar archive', async () => {
    await expect(extractTarGz(gzipSync(Buffer.alloc(1024, 1)), workspace, MiB)).rejects.toThrow(
      'the tarball is not a valid tar archive: TAR_ENTRY_INVALID: checksum failure',
    );
  });

  it('refuses a truncated archive', async () => {
    const archive = tarArchive([tarEntry('a.js', 'x'.repeat(2000))]).subarray(0, 1024);
    await expect(extractTarGz(gzipSync(archive), workspace, MiB)).rejects.toThrow(
      /^the tarball is not a valid tar archive: /,
    );
  });

  it('refuses data that is not gzip-compressed', async () => {
    await expect(extractTarGz(Buffer.from('<html>login</html>'), workspace, MiB)).rejects.toThrow(
      'the tarball is not gzip-compressed: incorrect header check',
    );
  });
});

describe('isNpmLayout', () => {
  it.each([
    [['package/', 'package/a.js'], true],
    [['package/a.js', './package/b.js'], true],
    [['package/a.js', 'index.js'], false],
    [['packages/a.js'], false],
    [['./'], false],
  ])('for %j is %s', (paths, expected) => {
    expect(isNpmLayout(paths.map((p) => ({ path: p, type: 'File' })))).toBe(expected);
  });
});

describe('decideEntry', () => {
  it.each([
    ['package/a.js', 'File', true, { action: 'file', path: 'a.js' }],
    ['package/lib/', 'Directory', true, { action: 'directory', path: 'lib' }],
    ['package/', 'Directory', true, { action: 'ignore' }],
    ['a.sh', 'ContiguousFile', false, { action: 'file', path: 'a.sh' }],
    ['link', 'SymbolicLink', false, { action: 'skip', path: 'link' }],
    ['dev', 'CharacterDevice', false, { action: 'skip', path: 'dev' }],
  ] as const)('%s (%s, npm layout %s) → %j', (p, type, npm, expected) => {
    expect(decideEntry({ path: p, type }, npm)).toEqual(expected);
  });
});

describe('safeRelativePath', () => {
  it.each([
    ['./a/b/', 'a/b'],
    ['a//b', 'a/b'],
    ['./', ''],
  ])('normalises %s to %s', (name, expected) => {
    expect(safeRelativePath(name)).toBe(expected);
  });

  it.each([
    ['C:/x', 'the tarball entry "C:/x" is an absolute path'],
    ['a\\..\\..\\b', 'the tarball entry "a\\\\..\\\\..\\\\b" leaves the workspace'],
  ])('refuses %s', (name, message) => {
    expect(() => safeRelativePath(name)).toThrow(message);
  });
});

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + String(body.length).length;
  if (String(length).length !== String(body.length).length) length += 1;
  return `${length}${body}`;
}
