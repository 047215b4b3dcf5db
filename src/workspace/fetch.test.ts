import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { fetchSource } from './fetch.js';
import { checkSha256, DEFAULT_TARBALL_LIMITS } from './tarball.js';
import { npmTarball } from './testdata/tar.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const tarball = npmTarball({
  'package.json': '{"name":"hello","version":"1.0.0"}',
  'index.js': 'module.exports = () => "hi";',
  'lib/util.js': 'util',
});

describe('checkSha256', () => {
  it('accepts the right digest in either case', () => {
    expect(checkSha256(tarball, sha256(tarball).toUpperCase())).toEqual({ ok: true });
  });

  it('returns the actual digest on a mismatch', () => {
    expect(checkSha256(Buffer.from('abc'), '0'.repeat(64))).toEqual({
      ok: false,
      actual: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    });
  });
});

describe('fetchSource', () => {
  let workspace: string;
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);
  beforeEach(async () => {
    workspace = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-ws-'));
    lines.length = 0;
  });
  afterEach(async () => rm(workspace, { recursive: true, force: true }));

  describe('from an https tarball (served over http on 127.0.0.1 here)', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/hello.tgz')
          res
            .writeHead(200, { 'content-type': 'application/gzip', 'content-length': tarball.length })
            .end(tarball);
        else if (req.url === '/chunked.tgz')
          res.writeHead(200, { 'content-type': 'application/gzip' }).end(tarball);
        else if (req.url === '/not-gzip.tgz') res.writeHead(200).end('<html>login</html>');
        else res.writeHead(404).end('not found');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

    const env = (url: string, digest: string): Record<string, string> => ({
      CLOUDBASE_SOURCE: url,
      CLOUDBASE_SOURCE_SHA256: digest,
      CLOUDBASE_WORKSPACE: workspace,
    });

    it('downloads, verifies and extracts it without the package/ prefix', async () => {
      const files = await fetchSource(env(`${base}/hello.tgz`, sha256(tarball)), { allowHttp: true, log });
      expect(files).toEqual(['package.json', 'index.js', 'lib/util.js']);
      expect(await readFile(path.join(workspace, 'lib/util.js'), 'utf8')).toBe('util');
      expect(lines).toEqual([
        `cloudbase fetch: extracted 3 file(s) from ${base}/hello.tgz (sha256 ${sha256(tarball)}) to ${workspace}`,
      ]);
    });

    it('fails on a sha256 mismatch before extracting anything, naming both digests and the annotation', async () => {
      const wrong = 'f'.repeat(64);
      await expect(fetchSource(env(`${base}/hello.tgz`, wrong), { allowHttp: true, log })).rejects.toThrow(
        `sha256 mismatch for ${base}/hello.tgz: expected ${wrong}, got ${sha256(tarball)}; fix the cloudbase.dev/source-sha256 annotation`,
      );
      await expect(readFile(path.join(workspace, 'index.js'))).rejects.toThrow('ENOENT');
    });

    it('fails with the HTTP status', async () => {
      await expect(
        fetchSource(env(`${base}/gone.tgz`, sha256(tarball)), { allowHttp: true, log }),
      ).rejects.toThrow(`cannot download ${base}/gone.tgz: HTTP 404 Not Found`);
    });

    it('fails when the download is over the size limit', async () => {
      const limits = { ...DEFAULT_TARBALL_LIMITS, maxDownloadBytes: 100 };
      await expect(
        fetchSource(env(`${base}/hello.tgz`, sha256(tarball)), { allowHttp: true, log, limits }),
      ).rejects.toThrow(`the tarball at ${base}/hello.tgz is ${tarball.length} bytes, over the limit of 100`);
    });

    it('fails when a download without a declared length grows over the limit', async () => {
      const limits = { ...DEFAULT_TARBALL_LIMITS, maxDownloadBytes: 100 };
      await expect(
        fetchSource(env(`${base}/chunked.tgz`, sha256(tarball)), { allowHttp: true, log, limits }),
      ).rejects.toThrow(`the tarball at ${base}/chunked.tgz is over the limit of 100 bytes`);
    });

    it('fails when the archive unpacks to more than the limit', async () => {
      const limits = { ...DEFAULT_TARBALL_LIMITS, maxExtractedBytes: 1024 };
      await expect(
        fetchSource(env(`${base}/hello.tgz`, sha256(tarball)), { allowHttp: true, log, limits }),
      ).rejects.toThrow('the tarball unpacks to more than 1024 bytes');
    });

    it('fails when the verified file is not a gzip archive', async () => {
      const body = Buffer.from('<html>login</html>');
      await expect(
        fetchSource(env(`${base}/not-gzip.tgz`, sha256(body)), { allowHttp: true, log }),
      ).rejects.toThrow(/^the tarball is not gzip-compressed: /);
    });

    it('fails clearly when nothing listens', async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const closed = `http://127.0.0.1:${port}/x.tgz`;
      await expect(fetchSource(env(closed, sha256(tarball)), { allowHttp: true, log })).rejects.toThrow(
        `cannot download ${closed}: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`,
      );
    });
  });

  describe('from a ConfigMap volume', () => {
    it('copies the keys through the ..data symlinks', async () => {
      const source = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-cmsrc-'));
      try {
        await mkdir(path.join(source, '..2024_01_01'));
        await writeFile(path.join(source, '..2024_01_01', 'handler.js'), 'x');
        await writeFile(path.join(source, '..2024_01_01', 'lib__a.js'), 'a');
        await symlink('..2024_01_01', path.join(source, '..data'));
        await symlink('..data/handler.js', path.join(source, 'handler.js'));
        await symlink('..data/lib__a.js', path.join(source, 'lib__a.js'));
        const files = await fetchSource(
          {
            CLOUDBASE_SOURCE: 'configmap:hello',
            CLOUDBASE_SOURCE_DIR: source,
            CLOUDBASE_WORKSPACE: workspace,
          },
          { log },
        );
        expect(files).toEqual(['handler.js', 'lib/a.js']);
        expect(lines).toEqual([
          `cloudbase fetch: copied 2 file(s) from the ConfigMap hello to ${workspace}: handler.js, lib/a.js`,
        ]);
      } finally {
        await rm(source, { recursive: true, force: true });
      }
    });
  });
});
