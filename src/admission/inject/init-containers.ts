import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { PodLayout, RuntimeEnv } from '../../contract/runtime-env.js';
import { FETCH_RESOURCES, INSTALL_RESOURCES } from './config.js';
import { Injected } from './names.js';
import { restrictedSecurityContext } from './security.js';
import { sourceMount, tmpMount, workspaceMount } from './volumes.js';

/**
 * The build steps, in the order they must run: fetch the code into the workspace, then install its
 * dependencies (the step itself skips when there is no lockfile). None when the code is in the image.
 */
export function desiredInitContainers(spec: FunctionSpec, image: string): V1Container[] {
  const { source } = spec;
  if (source.kind === 'image') return [];
  const fetchEnv: V1EnvVar[] = [{ name: RuntimeEnv.workspace, value: PodLayout.workspaceDir }];
  const fetchMounts = [workspaceMount(false), tmpMount()];
  if (source.kind === 'configmap') {
    fetchEnv.push(
      { name: RuntimeEnv.source, value: `configmap:${source.configMapName}` },
      { name: RuntimeEnv.sourceDir, value: PodLayout.sourceDir },
    );
    fetchMounts.push(sourceMount());
  } else {
    fetchEnv.push(
      { name: RuntimeEnv.source, value: source.url },
      { name: RuntimeEnv.sourceSha256, value: source.sha256 },
    );
  }
  return [
    buildStep(Injected.fetchContainer, 'fetch', image, fetchEnv, fetchMounts, FETCH_RESOURCES),
    buildStep(
      Injected.installContainer,
      'install',
      image,
      [{ name: RuntimeEnv.workspace, value: PodLayout.workspaceDir }],
      [workspaceMount(false), tmpMount()],
      INSTALL_RESOURCES,
    ),
  ];
}

function buildStep(
  name: string,
  step: 'fetch' | 'install',
  image: string,
  env: V1EnvVar[],
  volumeMounts: V1Container['volumeMounts'],
  resources: V1Container['resources'],
): V1Container {
  return {
    name,
    image,
    command: [PodLayout.runtimeCommand, step],
    env,
    volumeMounts,
    resources: structuredClone(resources),
    securityContext: restrictedSecurityContext(),
    // The step's one-line error shows in `kubectl describe pod` even when it could not write the termination log.
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}
