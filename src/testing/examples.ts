/** What the e2e tests of functions share: the examples applied as a user applies them, and an npm registry. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  dumpYaml,
  loadAllYaml,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { kubectl, type ClusterEnv } from './cluster.js';
import { startFileServer, type FileServer } from './file-server.js';

const run = promisify(execFile);

/**
 * `kubectl apply` of examples/<dir>/function.yaml into `namespace`: the objects' namespace is set to it, an
 * explicit route is put under `/<namespace>` (so two test runs never claim the same path), and `extraData` is
 * added to the ConfigMap. Returns the function's name and the route Traefik serves it at.
 */
export async function applyExample(
  env: ClusterEnv,
  dir: string,
  namespace: string,
  extraData?: Record<string, string>,
): Promise<{ name: string; route: string }> {
  const file = new URL(`../../examples/${dir}/function.yaml`, import.meta.url);
  const objects = loadAllYaml(await readFile(file, 'utf8')) as KubernetesObject[];
  let deployment: V1Deployment | undefined;
  for (const object of objects) {
    object.metadata = { ...object.metadata, namespace };
    if (object.kind === 'ConfigMap' && extraData) {
      const configMap = object as V1ConfigMap;
      configMap.data = { ...configMap.data, ...extraData };
    }
    if (object.kind === 'Deployment') deployment = object;
  }
  const annotations = deployment!.metadata!.annotations!;
  const name = deployment!.metadata!.name!;
  const explicit = annotations['cloudbase.dev/route'];
  if (explicit !== undefined) annotations['cloudbase.dev/route'] = `/${namespace}${explicit}`;
  const route = annotations['cloudbase.dev/route'] ?? `/${namespace}/${name}`;
  const result = await kubectl(['apply', '-f', '-'], objects.map((o) => dumpYaml(o)).join('---\n'), env);
  if (result.code !== 0) throw new Error(`kubectl apply of examples/${dir} failed: ${result.stderr}`);
  return { name, route };
}

/**
 * A one-package npm registry: the packument of `ms` and its 2.1.3 tarball, which the host's npm downloads from
 * the npm registry (`npm pack`), so the bytes are the ones the example's lockfile `integrity` pins.
 */
export async function startNpmRegistry(host: string): Promise<FileServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudbase-registry-'));
  try {
    await run('npm', ['pack', 'ms@2.1.3', '--silent'], { cwd: dir });
    const tgz = await readFile(join(dir, 'ms-2.1.3.tgz'));
    const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
    const registry = await startFileServer({ host });
    const tarball = '/ms/-/ms-2.1.3.tgz';
    registry.set(tarball, tgz);
    const packument = {
      name: 'ms',
      'dist-tags': { latest: '2.1.3' },
      versions: {
        '2.1.3': { name: 'ms', version: '2.1.3', dist: { tarball: `${registry.url}${tarball}`, integrity } },
      },
    };
    registry.set('/ms', JSON.stringify(packument), 'application/json');
    return registry;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * An `npm pack`-style .tgz (one top-level `package/`) of a CommonJS fetch-signature function that answers
 * `body` and a newline: an https:// source.
 */
export async function packTarballFunction(body: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudbase-tarball-'));
  try {
    await mkdir(join(dir, 'package'));
    await writeFile(join(dir, 'package', 'package.json'), '{ "name": "from-tarball", "version": "1.0.0" }\n');
    await writeFile(
      join(dir, 'package', 'index.js'),
      `module.exports = async () => new Response(${JSON.stringify(`${body}\n`)});\n`,
    );
    await run('tar', ['-czf', join(dir, 'function.tgz'), '-C', dir, 'package']);
    return await readFile(join(dir, 'function.tgz'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
