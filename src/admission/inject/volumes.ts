import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { PodLayout } from '../../contract/runtime-env.js';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { Injected } from './names.js';

/** The volumes a function's pod needs: a workspace the build steps fill (none for `image`), the source, /tmp. */
export function desiredVolumes(spec: FunctionSpec): V1Volume[] {
  const volumes: V1Volume[] = [];
  if (spec.source.kind !== 'image') {
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

export const sourceMount = (): V1VolumeMount => ({
  name: Injected.sourceVolume,
  mountPath: PodLayout.sourceDir,
  readOnly: true,
});
