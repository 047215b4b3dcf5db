/**
 * The build Job of one function and one build input: it builds the function's image the way ko and
 * `crane append` do, by appending layers to the runtime image, with no privileged builder:
 *   fetch     (runtime image)   the source into the workspace, with the pod build's own fetch step;
 *   deps-key  (runtime image)   names the dependencies layer by package.json, the lockfile and the base;
 *   cache     (assembler)       asks the registry for that layer's image (`crane digest`);
 *   layers    (runtime image)   `npm ci` unless it was there, then the layers as deterministic tarballs;
 *   assemble  (assembler)       `crane append`s them onto the runtime image, pushes, and writes the pinned
 *                               image to its termination message, where the controller reads it.
 * Pod Security `restricted`, no service account token, limits and a deadline. Pure: spec in, Job out.
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/
 * https://github.com/google/go-containerregistry/blob/main/cmd/crane/doc/crane_append.md
 */
import type { V1Container, V1EnvVar, V1Job, V1VolumeMount } from '@kubernetes/client-node';
import { functionRepository } from '../contract/build.js';
import { ownerReference } from '../contract/owner.js';
import { RUNTIME_UID, restrictedSecurityContext } from '../contract/pod-security.js';
import type { FunctionSpec } from '../contract/function-spec.js';
import {
  BuildLayout,
  LayerFile,
  PodLayout,
  RuntimeEnv,
  configMapSourceValue,
} from '../contract/runtime-env.js';
import { BuildLabel } from './labels.js';
import { assembleScript, cacheScript, BuildScriptEnv } from './scripts.js';

/**
 * The version of the build steps' output format. Part of every build input: raise it when a change to the
 * steps or the scripts changes the layers' bytes, so that nothing built before is taken for the new.
 */
export const BUILDER_FORMAT = 'cloudbase-build/1';

export interface BuildSettings {
  /** `HOST[:PORT][/PREFIX]` (--registry). */
  registry: string;
  /** Plain HTTP to the registry (--registry-insecure; the local cluster only). */
  insecure: boolean;
  /** The image with crane and a shell that checks the cache and assembles (--assembler-image). */
  assemblerImage: string;
  /** Longest a build may take before Kubernetes stops it. */
  deadlineSeconds: number;
  /** How many of a function's images stay in the registry (--build-keep-images; retention.ts). */
  keepImages: number;
}

/**
 * The shape of a build. `install`: the dependencies may need `npm ci` (prepare, cache, layers, assemble).
 * `code`: they need none, so one step writes the code layer and assemble appends it, onto the dependencies
 * image of the function's last build when their key is unchanged, else onto the base (no lockfile).
 */
export type BuildPlan = { kind: 'install' } | { kind: 'code'; depsImage?: string };

export interface BuildRequest {
  spec: FunctionSpec;
  /** The function's Deployment, which owns the Job. */
  owner: { name: string; uid: string };
  /** buildKey of the input. */
  key: string;
  /** The runtime image the layers go on, as crane pulls it from a registry. */
  baseImage: string;
  /**
   * The runtime image the build's own steps run in: the one the webhook injects, which the nodes have. Not
   * `baseImage` under another name: the local cluster's containerd (1.6) keeps one image per ID, and a second
   * name pulled for the same image made its CRI image store lose the first.
   */
  stepImage: string;
  plan: BuildPlan;
  /** The dependencies layer's key, when the controller could compute it (a ConfigMap source). */
  depsKey?: string;
  /** The build inputs whose images stay once this one is pushed, this one first (retention.ts keptBuilds). */
  keep: readonly string[];
}

/** What the dependencies layer's key depends on besides package.json and the lockfile. */
export function dependenciesSalt(baseImage: string, settings: BuildSettings): string {
  return `${baseImage} ${settings.assemblerImage} ${BUILDER_FORMAT}`;
}

/** The Job's name: `<function>-build-<12 hex of the key>`, within a label's 63 characters. */
export function buildJobName(functionName: string, key: string): string {
  return `${functionName.slice(0, 44).replace(/-+$/, '')}-build-${key.slice(0, 12)}`;
}

const VOLUME = { build: 'build', tmp: 'tmp', source: 'source' } as const;

const buildMount: V1VolumeMount = { name: VOLUME.build, mountPath: BuildLayout.root };
const tmpMount: V1VolumeMount = { name: VOLUME.tmp, mountPath: PodLayout.tmpDir };

/** The steps, in order: the init containers and the one that assembles. */
function buildContainers(
  request: BuildRequest,
  settings: BuildSettings,
): { initContainers: V1Container[]; containers: V1Container[] } {
  const { spec, key, baseImage, stepImage } = request;
  const repository = functionRepository(settings.registry, spec.namespace, spec.name);
  const runtimeEnv: V1EnvVar[] = [
    { name: RuntimeEnv.workspace, value: BuildLayout.workspaceDir },
    { name: RuntimeEnv.buildOut, value: BuildLayout.outDir },
  ];
  const scriptEnv: V1EnvVar[] = [
    { name: BuildScriptEnv.repository, value: repository },
    { name: BuildScriptEnv.baseImage, value: baseImage },
    { name: BuildScriptEnv.key, value: key },
    { name: BuildScriptEnv.craneFlags, value: settings.insecure ? '--insecure' : '' },
    { name: BuildScriptEnv.keep, value: request.keep.join(' ') },
    { name: 'HOME', value: PodLayout.tmpDir },
  ];
  if (request.plan.kind === 'code' && request.plan.depsImage !== undefined)
    scriptEnv.push({ name: BuildScriptEnv.depsImage, value: request.plan.depsImage });
  const fetchEnv: V1EnvVar[] = [...runtimeEnv];
  const fetchMounts = [buildMount, tmpMount];
  if (spec.source.kind === 'configmap') {
    fetchEnv.push(
      { name: RuntimeEnv.source, value: configMapSourceValue(spec.source.configMapName) },
      { name: RuntimeEnv.sourceDir, value: PodLayout.sourceDir },
    );
    fetchMounts.push({ name: VOLUME.source, mountPath: PodLayout.sourceDir, readOnly: true });
  } else if (spec.source.kind === 'https') {
    fetchEnv.push(
      { name: RuntimeEnv.source, value: spec.source.url },
      { name: RuntimeEnv.sourceSha256, value: spec.source.sha256 },
    );
  }
  const codeDone = `${BuildLayout.outDir}/${LayerFile.codeDone}`;
  const prepareEnv = [
    ...fetchEnv,
    { name: RuntimeEnv.buildSalt, value: dependenciesSalt(baseImage, settings) },
  ];
  const step = (
    name: string,
    image: string,
    command: string[],
    env: V1EnvVar[],
    memory: string,
    mounts = [buildMount, tmpMount],
  ): V1Container => ({
    name,
    image,
    command,
    env,
    volumeMounts: mounts,
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory } },
    securityContext: restrictedSecurityContext(),
    // A step that fails without writing its one line still shows its last log lines.
    terminationMessagePolicy: 'FallbackToLogsOnError',
  });
  const runtime = (name: string, memory: string, extraEnv: V1EnvVar[] = []): V1Container =>
    step(name, stepImage, [PodLayout.runtimeCommand, name], [...runtimeEnv, ...extraEnv], memory);
  return {
    initContainers:
      request.plan.kind === 'code'
        ? []
        : [
            step(
              'prepare',
              stepImage,
              [PodLayout.runtimeCommand, 'prepare'],
              prepareEnv,
              '256Mi',
              fetchMounts,
            ),
            step('cache', settings.assemblerImage, ['sh', '-c', cacheScript()], scriptEnv, '128Mi'),
            // What `npm ci` of a real dependency tree needs.
            runtime('layers', '768Mi'),
          ],
    // A code-only build runs its two steps side by side, the assembler waiting for the code step's end:
    // the kubelet starts the containers of a pod together, but each init container only at its next sync
    // after the one before (about a second here).
    containers:
      request.plan.kind === 'code'
        ? [
            step(
              'code',
              stepImage,
              [PodLayout.runtimeCommand, 'code'],
              [...fetchEnv, { name: RuntimeEnv.buildDone, value: codeDone }],
              '256Mi',
              fetchMounts,
            ),
            step(
              'assemble',
              settings.assemblerImage,
              ['sh', '-c', assembleScript()],
              [...scriptEnv, { name: BuildScriptEnv.waitFor, value: codeDone }],
              '256Mi',
            ),
          ]
        : [step('assemble', settings.assemblerImage, ['sh', '-c', assembleScript()], scriptEnv, '256Mi')],
  };
}

export function desiredBuildJob(request: BuildRequest, settings: BuildSettings): V1Job {
  const { spec, owner, key } = request;
  const labels = { [BuildLabel.function]: spec.name, [BuildLabel.input]: key.slice(0, 63) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: buildJobName(spec.name, key),
      namespace: spec.namespace,
      labels,
      annotations: {
        [BuildLabel.input]: key,
        ...(request.depsKey === undefined ? {} : { [BuildLabel.dependencies]: request.depsKey }),
      },
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      // A failed build is reported with its reason and kept for `kubectl logs`; the next input builds anew.
      backoffLimit: 0,
      activeDeadlineSeconds: settings.deadlineSeconds,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUNTIME_UID,
            runAsGroup: RUNTIME_UID,
            fsGroup: RUNTIME_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...buildContainers(request, settings),
          volumes: [
            { name: VOLUME.build, emptyDir: { sizeLimit: '2Gi' } },
            { name: VOLUME.tmp, emptyDir: { sizeLimit: '1Gi' } },
            ...(spec.source.kind === 'configmap'
              ? [{ name: VOLUME.source, configMap: { name: spec.source.configMapName } }]
              : []),
          ],
        },
      },
    },
  };
}
