/**
 * Unpacks a function's `.tgz` (npm pack, `tar czf`) into the workspace with node-tar, which parses ustar,
 * pax and GNU long names and hardens the writes (no writing through symlinks, no `..`, unicode-normalised
 * path reservations). On top of it we decide, in pure functions, which entries are written and where:
 * only regular files and directories (links and devices are skipped, as npm does), one top-level
 * `package/` directory is stripped, and an absolute or `..` entry fails the whole step instead of being
 * rewritten or skipped with a warning.
 * The archive is read twice from memory: a listing pass validates every entry before anything is written,
 * then the extraction pass writes. Both passes gunzip as a stream bounded by the unpacked-size limit.
 * https://github.com/isaacs/node-tar#security-information
 */
import { createGunzip } from 'node:zlib';
import { Parser, Unpack, type ReadEntry } from 'tar';
import { BuildFailure } from './failure.js';

/** What the archive says about one entry; only what the decisions need. */
export interface TarEntryInfo {
  /** As stored (after pax / GNU long-name overrides). */
  path: string;
  /** node-tar's type name, e.g. `File`, `Directory`, `SymbolicLink`. */
  type: string;
}

/** What happens to one entry: written at `path` (relative to the workspace), skipped, or ignored. */
export type EntryDecision =
  | { action: 'file' | 'directory'; path: string }
  | { action: 'skip'; path: string }
  /** The stripped `package/` directory itself, or `./`. */
  | { action: 'ignore' };

/** Regular files: `0`, the old `\0` and contiguous `7`. Everything else but directories is skipped. */
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

export const DEFAULT_MAX_ENTRIES = 100_000;

/** `./a/b/` → `a/b`; absolute paths and `..` segments are refused with the line to show. */
export function safeRelativePath(name: string): string {
  const unixName = name.replaceAll('\\', '/');
  if (unixName.startsWith('/') || /^[a-zA-Z]:/.test(unixName))
    throw new BuildFailure(`the tarball entry ${JSON.stringify(name)} is an absolute path`);
  const segments = unixName.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..'))
    throw new BuildFailure(`the tarball entry ${JSON.stringify(name)} leaves the workspace`);
  return segments.join('/');
}

/**
 * True when every entry is `package` or below it, as in npm tarballs; then `package/` is stripped. Throws
 * on the first absolute or `..` entry, so a listing validates the whole archive before anything is written.
 */
export function isNpmLayout(entries: readonly TarEntryInfo[]): boolean {
  const named = entries.map((e) => safeRelativePath(e.path)).filter((rel) => rel !== '');
  return named.length > 0 && named.every((rel) => rel === 'package' || rel.startsWith('package/'));
}

/** Where (and whether) one entry is written. */
export function decideEntry(entry: TarEntryInfo, npmLayout: boolean): EntryDecision {
  const full = safeRelativePath(entry.path);
  const rel = npmLayout ? full.slice('package/'.length) : full;
  if (rel === '') return { action: 'ignore' };
  if (FILE_TYPES.has(entry.type)) return { action: 'file', path: rel };
  if (entry.type === 'Directory') return { action: 'directory', path: rel };
  return { action: 'skip', path: rel };
}

/**
 * 0755 when the archive sets any execute bit, else 0644; directories 0755. Whatever the archive says, the
 * function container can read every file and nobody else can write it.
 */
export function normalisedMode(decision: EntryDecision, archiveMode: number | undefined): number {
  if (decision.action === 'directory') return 0o755;
  return (archiveMode ?? 0) & 0o111 ? 0o755 : 0o644;
}

/**
 * Gunzips (bounded by `maxExtractedBytes`, headers included) and writes the archive's files into
 * `workspace`; returns what was written and what was skipped (links, devices), in archive order.
 * Throws `BuildFailure` with one line when the data is not a gzipped tar archive, is too big, or has an
 * entry that is absolute or leaves the workspace; in those cases nothing is written.
 */
export async function extractTarGz(
  gz: Buffer,
  workspace: string,
  maxExtractedBytes: number,
  maxEntries = DEFAULT_MAX_ENTRIES,
): Promise<{ files: string[]; skipped: string[] }> {
  const entries: TarEntryInfo[] = [];
  const lister = new Parser({
    strict: true,
    onReadEntry: (entry) => {
      entries.push({ path: entry.path, type: entry.type });
      // Listing only: drain the data so that the parser moves on (node-tar's `list` does the same).
      entry.resume();
      if (entries.length > maxEntries)
        throw new BuildFailure(`the tarball has more than ${maxEntries} entries`);
    },
  });
  await feed(gz, lister, maxExtractedBytes);
  const npmLayout = isNpmLayout(entries);

  const files: string[] = [];
  const skipped: string[] = [];
  const decisionOf = (entry: ReadEntry): EntryDecision => decideEntry(entry, npmLayout);
  const unpack = new Unpack({
    cwd: workspace,
    strict: true,
    // Never chown to the archive's uid/gid, even when running as root.
    preserveOwner: false,
    filter: (_path, entry) => {
      const decision = decisionOf(entry as ReadEntry);
      if (decision.action === 'skip') skipped.push(decision.path);
      return decision.action === 'file' || decision.action === 'directory';
    },
    // Runs before node-tar writes the entry: its path becomes ours (stripped, normalised), its mode ours.
    onReadEntry: (entry) => {
      const decision = decisionOf(entry);
      if (decision.action !== 'file' && decision.action !== 'directory') return;
      entry.path = decision.path;
      entry.mode = normalisedMode(decision, entry.mode);
      if (decision.action === 'file') files.push(decision.path);
    },
  });
  await feed(gz, unpack, maxExtractedBytes);
  return { files, skipped };
}

/** The node-tar stream we write the gunzipped archive into (a Parser or an Unpack). */
type TarSink = Parser;

/**
 * Streams `gz` through gunzip into `sink`, counting unpacked bytes; resolves when the sink closed (for an
 * Unpack: every file written). Every failure becomes one `BuildFailure` line.
 */
function feed(gz: Buffer, sink: TarSink, maxExtractedBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    let total = 0;
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      gunzip.destroy();
      reject(err instanceof BuildFailure ? err : tarFailure(err));
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > maxExtractedBytes) {
        fail(new BuildFailure(`the tarball unpacks to more than ${maxExtractedBytes} bytes`));
        return;
      }
      try {
        if (!sink.write(chunk)) gunzip.pause();
      } catch (err) {
        fail(err);
      }
    });
    sink.on('drain', () => gunzip.resume());
    gunzip.on('end', () => {
      try {
        sink.end();
      } catch (err) {
        fail(err);
      }
    });
    gunzip.on('error', (err) => fail(new BuildFailure(`the tarball is not gzip-compressed: ${err.message}`)));
    sink.on('error', fail);
    sink.on('close', () => {
      if (!failed) resolve();
    });
    gunzip.end(gz);
  });
}

/** node-tar's errors carry a `TAR_*` code; unexpected ones (a full disk) keep their own message. */
function tarFailure(err: unknown): BuildFailure {
  const e = err as { tarCode?: string; code?: string; message?: string; path?: string };
  const message = e.message ?? String(err);
  if (e.tarCode === 'TAR_BAD_ARCHIVE' || e.tarCode === 'TAR_ENTRY_INVALID' || e.code === 'TAR_BAD_ARCHIVE')
    return new BuildFailure(`the tarball is not a valid tar archive: ${message}`);
  return new BuildFailure(`cannot extract the tarball: ${message}`);
}
