import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { PodLayout } from '../../contract/runtime-env.js';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { Injected } from './names.js';
import type { SourceLayout } from './source-layout.js';

/** The volumes a function's pod needs: the workspace the build fills, the source ConfigMap, /tmp. */
export function desiredVolumes(spec: FunctionSpec, layout: SourceLayout): V1Volume[] {
  const volumes: V1Volume[] = [];
  if (layout === 'build') {
    // Bounded so a runaway install cannot fill the node's disk.
    volumes.push({ name: Injected.workspaceVolume, emptyDir: { sizeLimit: '1Gi' } });
  }
  if (spec.source.kind === 'configmap') {
    volumes.push({ name: Injected.sourceVolume, configMap: { name: spec.source.configMapName } });
  }
  volumes.push({ name: Injected.tmpVolume, emptyDir: { sizeLimit: '256Mi' } });
  return volumes;
}

export const tmpMount = (): V1VolumeMount => ({ name: Injected.tmpVolume, mountPath: PodLayout.tmpDir });

export const workspaceMount = (readOnly: boolean): V1VolumeMount => ({
  name: Injected.workspaceVolume,
  mountPath: PodLayout.workspaceDir,
  readOnly,
});

/** The source ConfigMap, where the build reads it, or (layout `mounted`) as the function's workspace. */
export const sourceMount = (mountPath: string = PodLayout.sourceDir): V1VolumeMount => ({
  name: Injected.sourceVolume,
  mountPath,
  readOnly: true,
});
