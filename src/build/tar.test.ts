import { describe, expect, it } from '@jest/globals';
import { parseTar, planExtraction, safeRelativePath } from './tar.js';
import { tarEntry, tarArchive } from './testdata/tar.js';

describe('parseTar', () => {
  it('reads files and directories', () => {
    const archive = tarArchive([
      tarEntry('package/', '', '5'),
      tarEntry('package/index.js', 'hi', '0', 0o755),
    ]);
    expect(parseTar(archive).map((e) => [e.name, e.type, e.mode, e.data.toString()])).toEqual([
      ['package/', 'directory', 0o755, ''],
      ['package/index.js', 'file', 0o755, 'hi'],
    ]);
  });

  it('reads a pax path longer than 100 characters', () => {
    const long = `package/${'d'.repeat(120)}/index.js`;
    const archive = tarArchive([
      tarEntry('PaxHeader', paxRecord('path', long), 'x'),
      tarEntry('ignored-short-name', 'x'),
    ]);
    expect(parseTar(archive).map((e) => e.name)).toEqual([long]);
  });

  it('reads a GNU long name', () => {
    const long = `${'n'.repeat(150)}.js`;
    const archive = tarArchive([tarEntry('././@LongLink', `${long}\0`, 'L'), tarEntry('short', 'x')]);
    expect(parseTar(archive).map((e) => e.name)).toEqual([long]);
  });

  it('refuses something that is not a tar archive', () => {
    expect(() => parseTar(Buffer.alloc(1024, 1))).toThrow(
      'the tarball is not a valid tar archive (bad header checksum at byte 0)',
    );
  });

  it('refuses a truncated archive', () => {
    const archive = tarArchive([tarEntry('a.js', 'x'.repeat(2000))]).subarray(0, 1024);
    expect(() => parseTar(archive)).toThrow('the tarball is truncated');
  });
});

describe('planExtraction', () => {
  it('strips the single top-level package/ directory of npm tarballs', () => {
    const plan = planExtraction(
      parseTar(
        tarArchive([
          tarEntry('package/', '', '5'),
          tarEntry('package/lib/', '', '5'),
          tarEntry('package/lib/a.js', 'a'),
          tarEntry('package/run.sh', '#!', '0', 0o755),
        ]),
      ),
    );
    expect(plan.directories).toEqual(['lib']);
    expect(plan.files.map((f) => [f.path, f.mode])).toEqual([
      ['lib/a.js', 0o644],
      ['run.sh', 0o755],
    ]);
  });

  it('keeps paths as they are when not everything is under package/', () => {
    const plan = planExtraction(
      parseTar(tarArchive([tarEntry('./package/a.js', 'a'), tarEntry('./index.js', 'i')])),
    );
    expect(plan.files.map((f) => f.path)).toEqual(['package/a.js', 'index.js']);
  });

  it('skips links instead of following them', () => {
    const plan = planExtraction(parseTar(tarArchive([tarEntry('index.js', 'i'), tarEntry('evil', '', '2')])));
    expect([plan.files.map((f) => f.path), plan.skipped]).toEqual([['index.js'], ['evil']]);
  });

  it.each([
    ['../escape.js', 'the tarball entry "../escape.js" leaves the workspace'],
    ['package/../../escape.js', 'the tarball entry "package/../../escape.js" leaves the workspace'],
    ['/etc/cron.d/x', 'the tarball entry "/etc/cron.d/x" is an absolute path'],
  ])('refuses the entry %s', (name, message) => {
    expect(() => planExtraction(parseTar(tarArchive([tarEntry(name, 'x')])))).toThrow(message);
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
});

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + String(body.length).length;
  if (String(length).length !== String(body.length).length) length += 1;
  return `${length}${body}`;
}
