import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { PodLayout, RuntimeEnv, configMapSourceValue } from '../../contract/runtime-env.js';
import { BUILD_RESOURCES } from './config.js';
import { Injected } from './names.js';
import type { SourceLayout } from './source-layout.js';
import { restrictedSecurityContext } from './security.js';
import { sourceMount, tmpMount, workspaceMount } from './volumes.js';

/**
 * The build, one init container that runs both steps in order: fetch the code into the workspace, then install
 * its dependencies (skipped when there is no lockfile). One container, not one per step: every container
 * start costs the kubelet a sync loop (about a second here), and that is most of a function's time to its first
 * answer. Its one-line error names the step that failed. None when the code is in the image or the ConfigMap
 * is mounted as the workspace (source-layout.ts).
 */
export function desiredInitContainers(
  spec: FunctionSpec,
  layout: SourceLayout,
  image: string,
): V1Container[] {
  const { source } = spec;
  if (layout !== 'build' || source.kind === 'image') return [];
  const env: V1EnvVar[] = [{ name: RuntimeEnv.workspace, value: PodLayout.workspaceDir }];
  const volumeMounts = [workspaceMount(false), tmpMount()];
  if (source.kind === 'configmap') {
    env.push(
      { name: RuntimeEnv.source, value: configMapSourceValue(source.configMapName) },
      { name: RuntimeEnv.sourceDir, value: PodLayout.sourceDir },
    );
    volumeMounts.push(sourceMount());
  } else {
    env.push(
      { name: RuntimeEnv.source, value: source.url },
      { name: RuntimeEnv.sourceSha256, value: source.sha256 },
    );
  }
  return [
    {
      name: Injected.buildContainer,
      image,
      command: [PodLayout.runtimeCommand, 'build'],
      env,
      volumeMounts,
      // What `npm ci` of a real dependency tree needs; fetching alone needs far less.
      resources: structuredClone(BUILD_RESOURCES),
      securityContext: restrictedSecurityContext(),
      // The step's one-line error shows in `kubectl describe pod` even when it could not write the termination log.
      terminationMessagePolicy: 'FallbackToLogsOnError',
    },
  ];
}
