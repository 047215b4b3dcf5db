/**
 * A small reader for the tar archives functions ship in (npm pack, `tar czf`): ustar, pax and GNU long
 * names. Parsing is pure; only regular files and directories are extracted, never links or devices, and no
 * path may leave the target directory.
 * Format: https://www.gnu.org/software/tar/manual/html_node/Standard.html
 */
import path from 'node:path';
import { BuildFailure } from './failure.js';

const BLOCK = 512;

export interface TarEntry {
  /** As stored (after pax / GNU long-name overrides). */
  name: string;
  type: 'file' | 'directory' | 'link' | 'other';
  mode: number;
  data: Buffer;
}

/** Reads every entry of an uncompressed tar archive. Throws `BuildFailure` when it is not one. */
export function parseTar(archive: Buffer, maxEntries = 100_000): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let override: { name?: string; size?: number } = {};
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumMatches(header))
      throw new BuildFailure(
        `the tarball is not a valid tar archive (bad header checksum at byte ${offset})`,
      );
    const typeflag = String.fromCharCode(header[156]!);
    const size = override.size ?? readNumber(header.subarray(124, 136));
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length) throw new BuildFailure('the tarball is truncated');
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (typeflag === 'x') {
      override = { ...override, ...parsePax(data) };
      continue;
    }
    if (typeflag === 'L') {
      override = { ...override, name: cString(data) };
      continue;
    }
    if (typeflag === 'g' || typeflag === 'K') continue;
    entries.push({
      name: override.name ?? headerName(header),
      type: typeOf(typeflag),
      mode: readNumber(header.subarray(100, 108)),
      data,
    });
    override = {};
    if (entries.length > maxEntries)
      throw new BuildFailure(`the tarball has more than ${maxEntries} entries`);
  }
  return entries;
}

/** What to write: files and directories relative to the target, plus what was skipped (links, devices). */
export interface ExtractionPlan {
  directories: string[];
  files: { path: string; mode: number; data: Buffer }[];
  skipped: string[];
}

/**
 * Normalises entry names, strips the single top-level `package/` directory npm tarballs have, and refuses
 * any entry that is absolute or climbs out with `..`.
 */
export function planExtraction(entries: TarEntry[]): ExtractionPlan {
  const named = entries.map((e) => ({ ...e, rel: safeRelativePath(e.name) })).filter((e) => e.rel !== '');
  const npmLayout =
    named.length > 0 && named.every((e) => e.rel === 'package' || e.rel.startsWith('package/'));
  const plan: ExtractionPlan = { directories: [], files: [], skipped: [] };
  for (const e of named) {
    const rel = npmLayout ? e.rel.slice('package/'.length) : e.rel;
    if (rel === '' || (npmLayout && e.rel === 'package')) continue;
    if (e.type === 'file') plan.files.push({ path: rel, mode: e.mode & 0o111 ? 0o755 : 0o644, data: e.data });
    else if (e.type === 'directory') plan.directories.push(rel);
    else plan.skipped.push(rel);
  }
  return plan;
}

/** `./a/b/` → `a/b`; absolute paths and `..` segments are refused. */
export function safeRelativePath(name: string): string {
  const unixName = name.replaceAll('\\', '/');
  if (unixName.startsWith('/') || /^[a-zA-Z]:/.test(unixName))
    throw new BuildFailure(`the tarball entry ${JSON.stringify(name)} is an absolute path`);
  const segments = unixName.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..'))
    throw new BuildFailure(`the tarball entry ${JSON.stringify(name)} leaves the workspace`);
  return path.posix.join(...(segments.length > 0 ? segments : ['.'])).replace(/^\.$/, '');
}

function typeOf(flag: string): TarEntry['type'] {
  if (flag === '0' || flag === '\0' || flag === '7') return 'file';
  if (flag === '5') return 'directory';
  if (flag === '1' || flag === '2') return 'link';
  return 'other';
}

/** ustar splits long names into `prefix/name`; GNU tar uses that area for other fields. */
function headerName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const isUstar = header.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

/** Octal ASCII, or GNU base-256 when the high bit of the first byte is set. */
function readNumber(field: Buffer): number {
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = cString(field).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === readNumber(header.subarray(148, 156));
}

/** pax records: `<length> <key>=<value>\n`; only `path` and `size` matter here. */
function parsePax(data: Buffer): { name?: string; size?: number } {
  const out: { name?: string; size?: number } = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const length = parseInt(data.subarray(pos, space).toString('latin1'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, pos + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.name = value;
    if (key === 'size') out.size = Number(value);
    pos += length;
  }
  return out;
}
