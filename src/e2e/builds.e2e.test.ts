import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dumpYaml, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import {
  clusterEnv,
  clusterImages,
  clusterKube,
  eventually,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { applyExample, packTarballFunction, startNpmRegistry } from '../testing/examples.js';
import { startFileServer, type FileServer } from '../testing/file-server.js';
import {
  blobStatus,
  FUNCTION_REGISTRY,
  imageLayers,
  manifestStatus,
  repositoryTags,
} from '../testing/registry.js';
import { applyYaml } from '../testing/scaling.js';
import { reinstallCloudbase, uninstallCloudbase } from '../testing/install.js';

// Image builds on the local cluster: Cloudbase installed as a user installs it, with its registry and
// --registry; functions' build Jobs push to the real registry (CNCF distribution) and the node's containerd
// pulls from it. Dependencies come from an npm registry served on the host (pods reach nothing else), https://
// sources from a file server there whose certificate the test CA signed: the nodejs22 runtime of this install
// is the one that also trusts the test CA.

const env = clusterEnv();
const kube = clusterKube(env);
const images = clusterImages();
const namespace = testNamespace('e2e-builds');
const REGISTRY = FUNCTION_REGISTRY;

async function deployment(name: string): Promise<V1Deployment> {
  return kube.apps.readNamespacedDeployment({ name, namespace });
}

/** Waits until the function runs an image built from another input than `not`, and gives it. */
async function builtImage(name: string, not?: string, timeoutMs = 180_000): Promise<string> {
  return eventually(
    `${name} to be built into an image${not === undefined ? '' : ` other than ${not}`}`,
    async () => {
      const annotations = (await deployment(name)).metadata?.annotations ?? {};
      const image = annotations['cloudbase.dev/image'];
      if (annotations['cloudbase.dev/build-status'] === 'Failed')
        throw new Error(`the build of ${name} failed: ${await warnings(name)}`);
      return image !== undefined && image !== not && annotations['cloudbase.dev/build-status'] === 'Succeeded'
        ? image
        : undefined;
    },
    timeoutMs,
    500,
  );
}

async function events(name: string, reason: string): Promise<string[]> {
  const list = await kube.core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${name},reason=${reason}`,
  });
  return list.items.map((event) => event.message ?? '');
}

const warnings = async (name: string): Promise<string> => (await events(name, 'BuildFailed')).join('; ');

async function jobs(): Promise<string[]> {
  return (await kube.batch.listNamespacedJob({ namespace })).items.map((job) => job.metadata?.name ?? '');
}

/** GETs the path through Traefik until it answers 200 with `body` (JSON), or any 200 without one. */
async function answer(path: string, body?: unknown): Promise<string> {
  return eventually(
    `${path} to answer 200${body === undefined ? '' : ` with ${JSON.stringify(body)}`} through Traefik`,
    async () => {
      const response = await fetch(`${env.traefikUrl}${path}`);
      const text = await response.text();
      if (response.status !== 200) return undefined;
      if (body !== undefined && JSON.stringify(JSON.parse(text)) !== JSON.stringify(body)) return undefined;
      return text;
    },
    120_000,
    500,
  );
}

/** The layer digests of a pushed image, from the registry's API. */
async function layers(image: string): Promise<string[]> {
  return (await imageLayers(env, image)).map((layer) => layer.digest);
}

async function applyObjects(...objects: object[]): Promise<void> {
  await applyYaml(objects.map((o) => dumpYaml(o)).join('---\n'), env);
}

async function configMap(name: string): Promise<V1ConfigMap> {
  return kube.core.readNamespacedConfigMap({ name, namespace });
}

/** Points the function at another ConfigMap, as a GitOps change of its code does. */
async function useSource(name: string, configMapName: string): Promise<void> {
  const result = await kubectl(
    [
      '-n',
      namespace,
      'annotate',
      '--overwrite',
      `deployment/${name}`,
      `cloudbase.dev/source=configmap:${configMapName}`,
    ],
    '',
    env,
  );
  if (result.code !== 0) throw new Error(result.stderr);
}

const tarballRequests = (npm: FileServer): number =>
  npm.requests.filter((r) => r.path.endsWith('.tgz')).length;

describe('image builds', () => {
  let npm: FileServer;
  let tarballs: FileServer;
  let first: string;
  let route: string;

  beforeAll(async () => {
    await reinstallCloudbase({ CLOUDBASE_INSTALL_RUNTIME_NODEJS22: images.runtimeNodejs22TestCa });
    await kubectl(['create', 'namespace', namespace], '', env);
    npm = await startNpmRegistry(env.hostIp);
    tarballs = await startFileServer({
      host: env.hostIp,
      tls: {
        cert: await readFile(join(images.testTlsDir, 'tls.crt'), 'utf8'),
        key: await readFile(join(images.testTlsDir, 'tls.key'), 'utf8'),
      },
    });
    ({ route } = await applyExample(env, 'with-dependency', namespace, {
      '.npmrc': `registry=${npm.url}/\n`,
    }));
  }, 700_000);

  afterAll(async () => {
    await removeNamespace(namespace);
    await npm?.stop();
    await tarballs?.stop();
    await uninstallCloudbase();
  }, 400_000);

  it('builds examples/with-dependency once into an image, which its pods run with no build container', async () => {
    first = await builtImage('duration');
    expect(first).toMatch(new RegExp(`^${REGISTRY}/${namespace}/duration@sha256:[0-9a-f]{64}$`));
    expect(JSON.parse(await answer(`${route}?d=2+days`))).toEqual({ '2 days': 172_800_000 });
    const pods = await kube.core.listNamespacedPod({
      namespace,
      labelSelector: 'cloudbase.dev/function=duration',
    });
    for (const pod of pods.items) {
      expect(pod.spec?.initContainers).toBeUndefined();
      expect(pod.spec?.containers[0]?.image).toBe(first);
    }
    expect(await events('duration', 'BuildSucceeded')).toEqual([expect.stringContaining(first)]);
    expect(tarballRequests(npm)).toBe(1);
    // Done: the build Job and its pod are gone.
    await eventually('the build Job to be removed', async () =>
      (await jobs()).length === 0 ? true : undefined,
    );
  }, 300_000);

  it('starts no build when the function scales to 3 pods, nor when it is applied unchanged', async () => {
    await kubectl(['-n', namespace, 'scale', 'deployment/duration', '--replicas=3'], '', env);
    await eventually('3 ready pods', async () =>
      (await deployment('duration')).status?.readyReplicas === 3 ? true : undefined,
    );
    await applyExample(env, 'with-dependency', namespace, { '.npmrc': `registry=${npm.url}/\n` });
    await answer(`${route}?d=1h`);
    expect(await events('duration', 'BuildStarted')).toHaveLength(1);
    expect((await deployment('duration')).metadata?.annotations?.['cloudbase.dev/image']).toBe(first);
    expect(await jobs()).toEqual([]);
    expect(tarballRequests(npm)).toBe(1);
  }, 300_000);

  it('builds a code change on the same dependencies layer, without npm ci', async () => {
    const code = await configMap('duration-code');
    const changed = code.data!['index.js']!.replace('return { [d]: ms(d) };', 'return { [d]: ms(d), v: 2 };');
    expect(changed).not.toBe(code.data!['index.js']);
    await applyObjects({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'duration-code-v2', namespace },
      data: { ...code.data, 'index.js': changed },
    });
    await useSource('duration', 'duration-code-v2');
    const second = await builtImage('duration', first);
    const [before, after] = [await layers(first), await layers(second)];
    expect(after.length).toBe(before.length);
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    expect(after.at(-1)).not.toBe(before.at(-1));
    expect(tarballRequests(npm)).toBe(1);
    // The rollout of the new image: its pods answer once they are ready.
    expect(JSON.parse(await answer(`${route}?d=1s`, { '1s': 1000, v: 2 }))).toEqual({ '1s': 1000, v: 2 });
  }, 300_000);

  it('gives two functions with the same source and runtime the same image digest', async () => {
    await applyObjects({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'twin',
        namespace,
        annotations: {
          'cloudbase.dev/function': 'true',
          'cloudbase.dev/source': 'configmap:duration-code-v2',
        },
      },
      spec: { template: { spec: { containers: [{ name: 'function' }] } } },
    });
    const [duration, other] = [await builtImage('duration'), await builtImage('twin')];
    expect(other.split('@')[1]).toBe(duration.split('@')[1]);
  }, 300_000);

  it('reports a failed build with its step and reason, and keeps the last image serving', async () => {
    const code = await configMap('duration-code-v2');
    const lock = JSON.parse(code.data!['package-lock.json']!) as {
      packages: Record<string, { version?: string; resolved?: string; integrity?: string }>;
    };
    lock.packages['node_modules/ms'] = {
      ...lock.packages['node_modules/ms'],
      version: '9.9.9',
      resolved: `${npm.url}/ms/-/ms-9.9.9.tgz`,
    };
    await applyObjects({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'duration-code-broken', namespace },
      data: { ...code.data, 'package-lock.json': JSON.stringify(lock) },
    });
    const running = (await deployment('duration')).metadata?.annotations?.['cloudbase.dev/image'];
    await useSource('duration', 'duration-code-broken');
    const failure = await eventually(
      'the build to fail',
      async () => {
        const found = await events('duration', 'BuildFailed');
        return found.length > 0 ? found[0] : undefined;
      },
      180_000,
      500,
    );
    expect(failure).toMatch(/^the build failed at layers: .*npm ci failed/);
    expect(failure).toContain(`the function keeps running ${running}`);
    const annotations = (await deployment('duration')).metadata?.annotations ?? {};
    expect(annotations['cloudbase.dev/build-status']).toBe('Failed');
    expect(annotations['cloudbase.dev/image']).toBe(running);
    expect(JSON.parse(await answer(`${route}?d=1s`))).toEqual({ '1s': 1000, v: 2 });
    // Its Job stays for `kubectl logs`.
    expect((await jobs()).length).toBe(1);
  }, 300_000);

  it('fails the build of an https:// source whose sha256 does not match, naming both, and keeps the last image serving', async () => {
    const publish = async (version: number): Promise<{ url: string; sha256: string }> => {
      const tgz = await packTarballFunction(`tarball v${version}`);
      tarballs.set(`/tarball-${version}.tgz`, tgz);
      return {
        url: `${tarballs.url}/tarball-${version}.tgz`,
        sha256: createHash('sha256').update(tgz).digest('hex'),
      };
    };
    const tarballFunction = (url: string, sha256: string): object => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'tarball',
        namespace,
        annotations: {
          'cloudbase.dev/function': 'true',
          'cloudbase.dev/source': url,
          'cloudbase.dev/source-sha256': sha256,
          'cloudbase.dev/route': `/${namespace}/tarball`,
        },
      },
      spec: { template: { spec: { containers: [{ name: 'function' }] } } },
    });
    const v1 = await publish(1);
    await applyObjects(tarballFunction(v1.url, v1.sha256));
    const running = await builtImage('tarball');
    expect(await answer(`/${namespace}/tarball`)).toBe('tarball v1\n');

    const v2 = await publish(2);
    const wrong = createHash('sha256').update('not the tarball').digest('hex');
    await applyObjects(tarballFunction(v2.url, wrong));
    const failure = await eventually(
      'the build of the wrong sha256 to fail',
      async () => (await events('tarball', 'BuildFailed'))[0],
      180_000,
      500,
    );
    expect(failure).toContain(
      `sha256 mismatch for ${v2.url}: expected ${wrong}, got ${v2.sha256}; fix the cloudbase.dev/source-sha256 annotation`,
    );
    expect(failure).toMatch(/^the build failed at prepare: /);
    expect(failure).toContain(`the function keeps running ${running}`);
    expect((await deployment('tarball')).metadata?.annotations?.['cloudbase.dev/image']).toBe(running);
    expect(await answer(`/${namespace}/tarball`)).toBe('tarball v1\n');
  }, 400_000);

  it('loses no image when the registry pod restarts (its storage is a persistent volume)', async () => {
    const image = (await deployment('twin')).metadata!.annotations!['cloudbase.dev/image']!;
    await kubectl(
      ['-n', 'cloudbase-system', 'delete', 'pod', '-l', 'app.kubernetes.io/name=cloudbase-registry'],
      '',
      env,
    );
    await kubectl(
      ['-n', 'cloudbase-system', 'rollout', 'status', 'deployment/cloudbase-registry', '--timeout=120s'],
      '',
      env,
    );
    const after = await eventually('the registry to answer again', async () => {
      try {
        return await layers(image);
      } catch {
        return undefined;
      }
    });
    expect(after.length).toBeGreaterThan(1);
  }, 300_000);

  it('keeps the last 3 images of a function, deletes the older ones, and the garbage collection frees their layers', async () => {
    const version = (n: number): object => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `versions-v${n}`, namespace },
      data: {
        'index.js': `export default async function handler() { return { version: ${n} }; }\n`,
        'package.json': '{ "type": "module" }\n',
      },
    });
    await applyObjects(version(1), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'versions',
        namespace,
        annotations: {
          'cloudbase.dev/function': 'true',
          'cloudbase.dev/source': 'configmap:versions-v1',
          'cloudbase.dev/route': `/${namespace}/versions`,
        },
      },
      spec: { template: { spec: { containers: [{ name: 'function' }] } } },
    });
    const images = [await builtImage('versions')];
    // Read now: once deleted, its manifest is gone.
    const firstLayers = await layers(images[0]!);
    for (const n of [2, 3, 4]) {
      await applyObjects(version(n));
      await useSource('versions', `versions-v${n}`);
      images.push(await builtImage('versions', images.at(-1)));
    }
    expect(JSON.parse(await answer(`/${namespace}/versions`, { version: 4 }))).toEqual({ version: 4 });
    const repository = images[0]!.split('@')[0]!;

    // The fourth build deleted the first image and said so; the history names the three it keeps.
    expect(await manifestStatus(env, images[0]!)).toBe(404);
    for (const kept of images.slice(1)) expect(await manifestStatus(env, kept)).toBe(200);
    const history = (await deployment('versions')).metadata!.annotations!['cloudbase.dev/build-history']!;
    expect(history.split(' ')).toHaveLength(3);
    expect((await repositoryTags(env, repository)).sort()).toEqual(
      history
        .split(' ')
        .map((key) => `build-${key}`)
        .sort(),
    );
    expect(await events('versions', 'BuildSucceeded')).toContainEqual(
      expect.stringMatching(
        new RegExp(`^built ${images[3]!.replace(/[.]/g, '\\.')} in .*; removed 1 older image$`),
      ),
    );

    // The first image's code layer is its own; the garbage collection removes it and no layer of the others.
    const keptLayers = (await Promise.all(images.slice(1).map(layers))).flat();
    const onlyFirst = firstLayers.filter((digest) => !keptLayers.includes(digest));
    expect(onlyFirst).toHaveLength(1);
    expect(await blobStatus(env, repository, onlyFirst[0]!)).toBe(200);
    const collect = await kubectl(
      [
        '-n',
        'cloudbase-system',
        'exec',
        'deployment/cloudbase-registry',
        '--',
        // The local cluster's registry image (cluster/lib/images.sh) has its one binary at the root.
        '/registry',
        'garbage-collect',
        '/etc/distribution/config.yml',
      ],
      '',
      env,
    );
    expect(collect.code).toBe(0);
    expect(collect.stdout + collect.stderr).toContain(`blob eligible for deletion: ${onlyFirst[0]}`);
    expect(await blobStatus(env, repository, onlyFirst[0]!)).toBe(404);
    for (const digest of new Set(keptLayers)) expect(await blobStatus(env, repository, digest)).toBe(200);
    // A pod of the newest version pulls its image after the collection.
    await kubectl(['-n', namespace, 'rollout', 'restart', 'deployment/versions'], '', env);
    await kubectl(['-n', namespace, 'rollout', 'status', 'deployment/versions', '--timeout=120s'], '', env);
    expect(JSON.parse(await answer(`/${namespace}/versions`, { version: 4 }))).toEqual({ version: 4 });
  }, 400_000);

  it('builds an edit of a function’s source ConfigMap at once', async () => {
    const code = (text: string): object => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'edited-code', namespace },
      data: {
        'index.js': `export default async function handler() { return { text: '${text}' }; }\n`,
        'package.json': '{ "type": "module" }\n',
      },
    });
    // One replica, always: no scaling, no rollout after the first, so nothing but the ConfigMap's own change
    // can re-queue the function before the resync.
    await applyObjects(code('before'), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'edited',
        namespace,
        annotations: {
          'cloudbase.dev/function': 'true',
          'cloudbase.dev/source': 'configmap:edited-code',
          'cloudbase.dev/route': `/${namespace}/edited`,
          'cloudbase.dev/min-scale': '1',
          'cloudbase.dev/max-scale': '1',
        },
      },
      spec: { template: { spec: { containers: [{ name: 'function' }] } } },
    });
    const before = await builtImage('edited');
    expect(JSON.parse(await answer(`/${namespace}/edited`, { text: 'before' }))).toEqual({ text: 'before' });
    await eventually('the Deployment to settle', async () => {
      const { metadata, status } = await deployment('edited');
      return status?.observedGeneration === metadata?.generation &&
        status?.replicas === 1 &&
        status?.updatedReplicas === 1 &&
        status?.availableReplicas === 1 &&
        status?.unavailableReplicas === undefined
        ? true
        : undefined;
    });
    // Its build starts at once, not at the controller's next resync (60 s): without the watch, a Job would
    // appear within 5 s of the edit about one time in twelve.
    const buildsBefore = await jobs();
    const edited = Date.now();
    await applyObjects(code('after'));
    await eventually(
      'a build Job for the edit',
      async () =>
        (await jobs()).some((job) => job.startsWith('edited-') && !buildsBefore.includes(job))
          ? true
          : undefined,
      5_000,
      100,
    );
    expect(Date.now() - edited).toBeLessThan(5_000);
    await builtImage('edited', before);
    expect(JSON.parse(await answer(`/${namespace}/edited`, { text: 'after' }))).toEqual({ text: 'after' });
  }, 240_000);

  // The scheduler finds no node for the build pod (here: the only node cordoned, as a full cluster would
  // be): the function says so within seconds, stays Building rather than Failed, and builds once there is room.
  it('says when no node can run a build pod yet, and builds once one can', async () => {
    const running = (await deployment('edited')).metadata!.annotations!['cloudbase.dev/image']!;
    const node = (await kube.core.listNode()).items[0]!.metadata!.name!;
    const cordon = await kubectl(['cordon', node], '', env);
    expect(cordon).toMatchObject({ code: 0 });
    try {
      const changed = Date.now();
      await applyObjects({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'edited-code', namespace },
        data: {
          'index.js': "export default async function handler() { return { text: 'waited' }; }\n",
          'package.json': '{ "type": "module" }\n',
        },
      });
      const said = await eventually(
        'a BuildPending event',
        async () => (await events('edited', 'BuildPending'))[0],
        60_000,
        200,
      );
      console.log(`builds e2e: BuildPending ${Date.now() - changed} ms after the edit`);
      expect(said).toMatch(/^no node can run the build pod yet: 0\/1 nodes are available: .*unschedulable/);
      expect(said).toContain('the build starts when it can, or fails at its');
      const annotations = (await deployment('edited')).metadata!.annotations!;
      expect(annotations['cloudbase.dev/build-status']).toBe('Building');
      expect(annotations['cloudbase.dev/image']).toBe(running);
    } finally {
      await kubectl(['uncordon', node], '', env);
    }
    await builtImage('edited', running);
    expect(JSON.parse(await answer(`/${namespace}/edited`, { text: 'waited' }))).toEqual({ text: 'waited' });
  }, 240_000);
});
