import { describe, expect, it } from '@jest/globals';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertMountedSourceNeedsNoBuild } from './mounted-source.js';

async function workspace(files: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cloudbase-mounted-'));
  for (const file of files) await writeFile(path.join(dir, file), '');
  // What the kubelet adds beside the keys of a ConfigMap volume.
  await mkdir(path.join(dir, '..2026_11_26_00_00_00.000'));
  return dir;
}

const env = { CLOUDBASE_SOURCE: 'configmap:hello-code', CLOUDBASE_FUNCTION_NAME: 'hello' };

describe('assertMountedSourceNeedsNoBuild', () => {
  it('accepts a mounted ConfigMap of plain files', async () => {
    await expect(
      assertMountedSourceNeedsNoBuild(env, await workspace(['index.js', 'package.json'])),
    ).resolves.toBeUndefined();
  });

  it('refuses one that gained a lockfile since admission, saying what to do', async () => {
    await expect(
      assertMountedSourceNeedsNoBuild(env, await workspace(['index.js', 'package-lock.json'])),
    ).rejects.toThrow(
      'the ConfigMap hello-code now needs the build step (package-lock.json lists dependencies for npm ci), which this pod was admitted without; restart the Deployment of function hello (kubectl rollout restart) so that Cloudbase adds it',
    );
  });

  it('checks nothing when the build step filled the workspace', async () => {
    await expect(
      assertMountedSourceNeedsNoBuild({}, await workspace(['index.js', 'package-lock.json'])),
    ).resolves.toBeUndefined();
  });

  it('names the mount when it cannot be read', async () => {
    await expect(assertMountedSourceNeedsNoBuild(env, '/nonexistent/workspace')).rejects.toThrow(
      'cannot read the ConfigMap hello-code mounted at /nonexistent/workspace',
    );
  });
});
