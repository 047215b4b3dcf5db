import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readCertificateFiles, writeCertificateFiles, type CertificateFiles } from './files.js';

const files: CertificateFiles = { caCertPem: 'CA PEM\n', certPem: 'CERT PEM\n', keyPem: 'KEY PEM\n' };
const newer: CertificateFiles = { caCertPem: 'CA PEM 2\n', certPem: 'CERT PEM 2\n', keyPem: 'KEY PEM 2\n' };

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cloudbase-certs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('writeCertificateFiles', () => {
  it('creates the directory and writes ca.crt, tls.key and tls.crt, returning their paths in write order', async () => {
    const dir = join(root, 'a', 'b');
    const written = await writeCertificateFiles(dir, files);
    expect(written).toEqual([join(dir, 'ca.crt'), join(dir, 'tls.key'), join(dir, 'tls.crt')]);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(files.caCertPem);
    expect(await readFile(join(dir, 'tls.crt'), 'utf8')).toBe(files.certPem);
    expect(await readFile(join(dir, 'tls.key'), 'utf8')).toBe(files.keyPem);
  });

  it.each([
    { name: 'tls.key', mode: 0o600 },
    { name: 'tls.crt', mode: 0o644 },
    { name: 'ca.crt', mode: 0o644 },
  ])('writes $name with mode $mode', async ({ name, mode }) => {
    await writeCertificateFiles(root, files);
    expect((await modeOf(join(root, name))).toString(8)).toBe(mode.toString(8));
  });

  it('leaves nothing but the three files behind', async () => {
    await writeCertificateFiles(root, files);
    await writeCertificateFiles(root, newer);
    expect((await readdir(root)).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
  });

  it('replaces a world-readable key with a 0600 one', async () => {
    await writeFile(join(root, 'tls.key'), 'OLD KEY', { mode: 0o644 });
    await writeCertificateFiles(root, files);
    expect(await modeOf(join(root, 'tls.key'))).toBe(0o600);
    expect(await readFile(join(root, 'tls.key'), 'utf8')).toBe(files.keyPem);
  });

  it('replaces files by rename, so a reader that opened the old file still reads it whole', async () => {
    await writeCertificateFiles(root, files);
    const reader = await open(join(root, 'tls.crt'), 'r');
    try {
      await writeCertificateFiles(root, newer);
      expect(await reader.readFile('utf8')).toBe(files.certPem);
    } finally {
      await reader.close();
    }
    expect(await readFile(join(root, 'tls.crt'), 'utf8')).toBe(newer.certPem);
  });

  it('names the file it could not replace and removes its temporary files', async () => {
    await mkdir(join(root, 'tls.crt')); // a directory cannot be replaced by a file
    await expect(writeCertificateFiles(root, files)).rejects.toThrow(
      `cannot replace ${join(root, 'tls.crt')}`,
    );
    expect((await readdir(root)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('names the directory it could not create', async () => {
    await writeFile(join(root, 'file'), '');
    await expect(writeCertificateFiles(join(root, 'file', 'dir'), files)).rejects.toThrow(
      `cannot create certificate directory ${join(root, 'file', 'dir')}`,
    );
  });
});

describe('readCertificateFiles', () => {
  it('reads back what writeCertificateFiles wrote', async () => {
    await writeCertificateFiles(root, files);
    expect(await readCertificateFiles(root)).toEqual(files);
  });

  it.each(['ca.crt', 'tls.crt', 'tls.key'])('names %s when it is missing', async (missing) => {
    await writeCertificateFiles(root, files);
    await rm(join(root, missing));
    await expect(readCertificateFiles(root)).rejects.toThrow(
      `certificate file ${missing} is missing from ${root} (expected ca.crt, tls.crt, tls.key)`,
    );
  });

  it('names a file it cannot read for another reason', async () => {
    await writeCertificateFiles(root, files);
    await rm(join(root, 'tls.key'));
    await mkdir(join(root, 'tls.key'));
    await expect(readCertificateFiles(root)).rejects.toThrow(
      `cannot read certificate file ${join(root, 'tls.key')}`,
    );
  });
});
