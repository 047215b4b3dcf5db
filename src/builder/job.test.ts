import { describe, expect, it } from '@jest/globals';
import type { V1Container } from '@kubernetes/client-node';
import { parseFunctionSpec } from '../contract/parse.js';
import type { FunctionSpec } from '../contract/function-spec.js';
import {
  buildJobName,
  dependenciesSalt,
  desiredBuildJob,
  type BuildPlan,
  type BuildSettings,
} from './job.js';
import { assembleScript, cacheScript } from './scripts.js';

const KEY = 'abcdef0123456789'.repeat(4);
const SETTINGS: BuildSettings = {
  registry: 'registry.example.com/functions',
  insecure: false,
  assemblerImage: 'example.com/crane:v0.22.1',
  deadlineSeconds: 600,
  keepImages: 3,
};
const BASE = 'registry.example.com/cloudbase/runtime-nodejs22:1';
/** The same runtime as the nodes have it: the steps run in it, crane appends to BASE. */
const STEP = 'example.com/runtime-nodejs22:1';

function spec(source: string, extra: Record<string, string> = {}): FunctionSpec {
  const parsed = parseFunctionSpec({
    annotations: { 'cloudbase.dev/function': 'true', 'cloudbase.dev/source': source, ...extra },
    name: 'hello',
    namespace: 'demo',
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.spec;
}

const job = (
  source = 'configmap:hello-code',
  settings = SETTINGS,
  extra: Record<string, string> = {},
  plan: BuildPlan = { kind: 'install' },
) =>
  desiredBuildJob(
    {
      spec: spec(source, extra),
      owner: { name: 'hello', uid: 'uid-1' },
      key: KEY,
      baseImage: BASE,
      keep: [KEY],
      stepImage: STEP,
      plan,
    },
    settings,
  );

const containers = (j = job()): V1Container[] => [
  ...(j.spec!.template.spec!.initContainers ?? []),
  ...j.spec!.template.spec!.containers,
];
const env = (c: V1Container): Record<string, string | undefined> =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe('desiredBuildJob', () => {
  it('is named and labelled by its function and input, owned by the Deployment, in its namespace', () => {
    const { metadata } = job();
    expect(metadata).toMatchObject({
      name: 'hello-build-abcdef012345',
      namespace: 'demo',
      labels: { 'cloudbase.dev/build-of': 'hello', 'cloudbase.dev/build-input': KEY.slice(0, 63) },
      annotations: { 'cloudbase.dev/build-input': KEY },
      ownerReferences: [{ kind: 'Deployment', name: 'hello', uid: 'uid-1', controller: true }],
    });
  });

  it('never labels its pods as function pods (the activator and the autoscaler read those)', () => {
    expect(Object.keys(job().spec!.template.metadata!.labels!)).not.toContain('cloudbase.dev/function');
  });

  it('that may install: prepare, cache and layers, then assembles, each on the right image', () => {
    expect(containers().map((c) => [c.name, c.image, c.command?.at(-1)?.slice(0, 20)])).toEqual([
      ['prepare', STEP, 'prepare'],
      ['cache', SETTINGS.assemblerImage, expect.any(String)],
      ['layers', STEP, 'layers'],
      ['assemble', SETTINGS.assemblerImage, expect.any(String)],
    ]);
  });

  it.each<[BuildPlan, Record<string, string | undefined>]>([
    [{ kind: 'code' }, {}],
    [
      { kind: 'code', depsImage: 'registry.example.com/functions/demo/hello:deps-1' },
      { CLOUDBASE_DEPS_IMAGE: 'registry.example.com/functions/demo/hello:deps-1' },
    ],
  ])('that needs no install (%j): one code step, then assembles onto what it names', (plan, expected) => {
    const j = job(undefined, SETTINGS, {}, plan);
    // Side by side, the assembler waiting for the code step's end.
    expect(j.spec!.template.spec!.initContainers).toEqual([]);
    expect(containers(j).map((c) => c.name)).toEqual(['code', 'assemble']);
    expect(env(containers(j)[0]!).CLOUDBASE_BUILD_DONE).toBe('/build/out/code.done');
    expect(env(containers(j)[1]!).CLOUDBASE_WAIT_FOR).toBe('/build/out/code.done');
    expect(containers(j)[0]!.command).toEqual(['cloudbase-runtime', 'code']);
    const assemble = env(containers(j)[1]!);
    expect(assemble.CLOUDBASE_DEPS_IMAGE).toBe(expected.CLOUDBASE_DEPS_IMAGE);
  });

  it('records the dependencies key it builds on, when the controller knew it', () => {
    const j = desiredBuildJob(
      {
        spec: spec('configmap:hello-code'),
        owner: { name: 'hello', uid: 'uid-1' },
        key: KEY,
        baseImage: BASE,
        keep: [KEY],
        stepImage: STEP,
        plan: { kind: 'install' },
        depsKey: 'd'.repeat(64),
      },
      SETTINGS,
    );
    expect(j.metadata?.annotations?.['cloudbase.dev/build-dependencies']).toBe('d'.repeat(64));
    expect(job().metadata?.annotations?.['cloudbase.dev/build-dependencies']).toBeUndefined();
  });

  it('meets Pod Security restricted, with no service account token, a deadline and no retry', () => {
    const j = job();
    const pod = j.spec!.template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(j.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 });
    for (const c of containers(j)) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
      });
      expect(c.resources?.limits?.memory).toBeDefined();
      expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    }
  });

  it('mounts a ConfigMap source for the fetch step only', () => {
    const j = job();
    const [fetch, ...others] = containers(j);
    expect(env(fetch!)).toMatchObject({
      CLOUDBASE_SOURCE: 'configmap:hello-code',
      CLOUDBASE_SOURCE_DIR: '/cloudbase/source',
      CLOUDBASE_WORKSPACE: '/build/workspace',
    });
    expect(fetch!.volumeMounts).toContainEqual({
      name: 'source',
      mountPath: '/cloudbase/source',
      readOnly: true,
    });
    expect(others.every((c) => !c.volumeMounts?.some((m) => m.name === 'source'))).toBe(true);
    expect(j.spec!.template.spec!.volumes).toContainEqual({
      name: 'source',
      configMap: { name: 'hello-code' },
    });
  });

  it('gives the fetch step an https source and its checksum, and mounts nothing for it', () => {
    const sha = 'f'.repeat(64);
    const j = job('https://example.com/f.tgz', SETTINGS, { 'cloudbase.dev/source-sha256': sha });
    expect(env(containers(j)[0]!)).toMatchObject({
      CLOUDBASE_SOURCE: 'https://example.com/f.tgz',
      CLOUDBASE_SOURCE_SHA256: sha,
    });
    expect(j.spec!.template.spec!.volumes!.map((v) => v.name)).toEqual(['build', 'tmp']);
  });

  it('keys the dependencies layer by the base image and the builder', () => {
    const prepare = containers().find((c) => c.name === 'prepare')!;
    expect(env(prepare).CLOUDBASE_BUILD_SALT).toBe(dependenciesSalt(BASE, SETTINGS));
    expect(dependenciesSalt(BASE, SETTINGS)).not.toBe(
      dependenciesSalt(BASE, { ...SETTINGS, assemblerImage: 'example.com/crane:v0.23.0' }),
    );
  });

  it.each([
    [false, ''],
    [true, '--insecure'],
  ])('with an insecure registry %s gives crane the flags %j', (insecure, flags) => {
    const assemble = containers(job(undefined, { ...SETTINGS, insecure })).find(
      (c) => c.name === 'assemble',
    )!;
    expect(env(assemble)).toMatchObject({
      CLOUDBASE_REPOSITORY: 'registry.example.com/functions/demo/hello',
      CLOUDBASE_BASE_IMAGE: BASE,
      CLOUDBASE_BUILD_KEY: KEY,
      CLOUDBASE_CRANE_FLAGS: flags,
    });
  });
});

describe('buildJobName', () => {
  it('fits a label value for the longest function name', () => {
    const name = buildJobName('a'.repeat(63), KEY);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^a+-build-abcdef012345$/);
  });

  it('never leaves a dash before -build', () => {
    expect(buildJobName(`${'a'.repeat(43)}-b`, KEY)).toBe(`${'a'.repeat(43)}-build-abcdef012345`);
  });
});

describe('the build scripts', () => {
  it.each([
    ['cache', cacheScript()],
    ['assemble', assembleScript()],
  ])('%s reads every value from the environment, never from text spliced in', (_name, script) => {
    expect(script).not.toContain(KEY);
    expect(script).not.toContain('registry.example.com');
    expect(script).toContain('$CLOUDBASE_REPOSITORY');
  });
});
