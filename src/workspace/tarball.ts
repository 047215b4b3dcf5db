/**
 * The `https://` source: download the .tgz (bounded), verify its sha256 BEFORE looking inside, then
 * extract it into the workspace (`extract.ts`). `checkSha256` is pure; the download is the I/O.
 */
import { createHash } from 'node:crypto';
import { extractTarGz } from './extract.js';
import { BuildFailure } from './failure.js';

export interface TarballLimits {
  /** Largest accepted download (compressed). */
  maxDownloadBytes: number;
  /** Largest accepted archive once gunzipped. */
  maxExtractedBytes: number;
  /** Whole download, including the body. */
  timeoutMs: number;
}

export const DEFAULT_TARBALL_LIMITS: TarballLimits = {
  maxDownloadBytes: 100 * 1024 * 1024,
  maxExtractedBytes: 512 * 1024 * 1024,
  timeoutMs: 120_000,
};

/** Compares the buffer's sha256 with the expected hex digest (case-insensitive). */
export function checkSha256(data: Buffer, expected: string): { ok: true } | { ok: false; actual: string } {
  const actual = createHash('sha256').update(data).digest('hex');
  return actual === expected.toLowerCase() ? { ok: true } : { ok: false, actual };
}

/** Downloads the URL into memory; HTTP errors, timeouts and oversize bodies become `BuildFailure`s. */
export async function download(url: URL, limits: TarballLimits): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(limits.timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new BuildFailure(
      `cannot download ${url.href}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new BuildFailure(`cannot download ${url.href}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limits.maxDownloadBytes) {
    await res.body?.cancel();
    throw new BuildFailure(
      `the tarball at ${url.href} is ${declared} bytes, over the limit of ${limits.maxDownloadBytes}`,
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += (chunk as Uint8Array).byteLength;
      if (total > limits.maxDownloadBytes)
        throw new BuildFailure(
          `the tarball at ${url.href} is over the limit of ${limits.maxDownloadBytes} bytes`,
        );
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
  } catch (err) {
    if (err instanceof BuildFailure) throw err;
    throw new BuildFailure(`cannot download ${url.href}: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks);
}

/** Download → verify → extract. A sha256 mismatch names both digests and the annotation to fix. */
export async function fetchTarball(
  url: URL,
  sha256: string,
  workspace: string,
  limits: TarballLimits = DEFAULT_TARBALL_LIMITS,
): Promise<{ files: string[]; skipped: string[] }> {
  const gz = await download(url, limits);
  const check = checkSha256(gz, sha256);
  if (!check.ok) {
    throw new BuildFailure(
      `sha256 mismatch for ${url.href}: expected ${sha256}, got ${check.actual}; fix the cloudbase.dev/source-sha256 annotation`,
    );
  }
  return extractTarGz(gz, workspace, limits.maxExtractedBytes);
}
