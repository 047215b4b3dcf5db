import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { messageOf } from './message.js';

/** The three PEMs a webhook serves with, as controller-runtime's certwatcher and Kubernetes TLS Secrets name them. */
export interface CertificateFiles {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

/** File names inside a certificate directory (the keys of a `kubernetes.io/tls` Secret plus `ca.crt`). */
export const CERTIFICATE_FILE_NAMES = { caCert: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

interface PlannedFile {
  name: string;
  content: string;
  mode: number;
}

interface StagedFile {
  path: string;
  tempPath: string;
  renamed: boolean;
}

/**
 * Writes `ca.crt`, `tls.key` (mode 0600) and `tls.crt` into `dir`, creating it if needed, and resolves to the
 * paths written. Each file is written to a temporary file in `dir` and renamed over the old one, so a process
 * watching the directory never reads a half-written file. All three are staged before any rename, and the key
 * is renamed just before its certificate, so the window in which a watcher could load a mismatched pair is
 * two back-to-back renames.
 */
export async function writeCertificateFiles(dir: string, files: CertificateFiles): Promise<string[]> {
  await withContext(`cannot create certificate directory ${dir}`, () => mkdir(dir, { recursive: true }));
  const plan: PlannedFile[] = [
    { name: CERTIFICATE_FILE_NAMES.caCert, content: files.caCertPem, mode: 0o644 },
    { name: CERTIFICATE_FILE_NAMES.key, content: files.keyPem, mode: 0o600 },
    { name: CERTIFICATE_FILE_NAMES.cert, content: files.certPem, mode: 0o644 },
  ];
  const staged: StagedFile[] = [];
  try {
    for (const file of plan) staged.push(await stageFile(dir, file));
    for (const file of staged) {
      await withContext(`cannot replace ${file.path}`, () => rename(file.tempPath, file.path));
      file.renamed = true;
    }
  } finally {
    await Promise.all(staged.filter((f) => !f.renamed).map((f) => rm(f.tempPath, { force: true })));
  }
  return staged.map((file) => file.path);
}

/**
 * Reads `ca.crt`, `tls.crt` and `tls.key` from `dir`. A missing file is an error naming it, so a
 * misconfigured mount is reported as such rather than as a TLS failure later.
 */
export async function readCertificateFiles(dir: string): Promise<CertificateFiles> {
  const [caCertPem, certPem, keyPem] = await Promise.all(
    [CERTIFICATE_FILE_NAMES.caCert, CERTIFICATE_FILE_NAMES.cert, CERTIFICATE_FILE_NAMES.key].map((name) =>
      readCertificateFile(dir, name),
    ),
  );
  return { caCertPem: caCertPem!, certPem: certPem!, keyPem: keyPem! };
}

async function readCertificateFile(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `certificate file ${name} is missing from ${dir} (expected ${Object.values(CERTIFICATE_FILE_NAMES).join(', ')})`,
        { cause: error },
      );
    }
    throw new Error(`cannot read certificate file ${path}: ${messageOf(error)}`, { cause: error });
  }
}

/** Writes `file` to a fresh temporary file next to its target, with its final mode, flushed to disk. */
async function stageFile(dir: string, file: PlannedFile): Promise<StagedFile> {
  const path = join(dir, file.name);
  const tempPath = join(dir, `.${file.name}.${randomBytes(6).toString('hex')}.tmp`);
  await withContext(`cannot write ${path}`, async () => {
    // 'wx': never follow or reuse an existing file; the mode applies from creation, so the key is never readable.
    const handle = await open(tempPath, 'wx', file.mode);
    try {
      await handle.chmod(file.mode); // the umask may have narrowed it; make the result predictable
      await handle.writeFile(file.content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }).catch(async (error: unknown) => {
    await rm(tempPath, { force: true });
    throw error;
  });
  return { path, tempPath, renamed: false };
}

async function withContext<T>(context: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new Error(`${context}: ${messageOf(error)}`, { cause: error });
  }
}
