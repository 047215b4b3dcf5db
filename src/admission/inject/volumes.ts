import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import path from 'node:path';
import { ANNOUNCE_AUDIENCE, ANNOUNCE_TOKEN_SECONDS } from '../../contract/announce.js';
import { PodLayout } from '../../contract/runtime-env.js';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { Injected } from './names.js';
import type { SourceLayout } from './source-layout.js';

/**
 * The volumes a function's pod needs: the workspace the build fills, the source ConfigMap, /tmp, and when
 * it announces itself to the activator, that token.
 */
export function desiredVolumes(spec: FunctionSpec, layout: SourceLayout, announces: boolean): V1Volume[] {
  const volumes: V1Volume[] = [];
  if (layout === 'build') {
    // Bounded so a runaway install cannot fill the node's disk.
    volumes.push({ name: Injected.workspaceVolume, emptyDir: { sizeLimit: '1Gi' } });
  }
  if (spec.source.kind === 'configmap') {
    volumes.push({ name: Injected.sourceVolume, configMap: { name: spec.source.configMapName } });
  }
  volumes.push({ name: Injected.tmpVolume, emptyDir: { sizeLimit: '256Mi' } });
  if (announces) volumes.push(announceTokenVolume());
  return volumes;
}

/**
 * A token the kubelet requests for the pod and renews: valid only for the activator's audience, so it opens
 * no API (the pod keeps `automountServiceAccountToken: false`), and bound to the pod, which the activator
 * checks through a TokenReview.
 * https://kubernetes.io/docs/concepts/storage/projected-volumes/#serviceaccounttoken
 */
function announceTokenVolume(): V1Volume {
  return {
    name: Injected.announceTokenVolume,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: ANNOUNCE_AUDIENCE,
            expirationSeconds: ANNOUNCE_TOKEN_SECONDS,
            path: path.posix.basename(PodLayout.announceTokenFile),
          },
        },
      ],
    },
  };
}

export const announceTokenMount = (): V1VolumeMount => ({
  name: Injected.announceTokenVolume,
  mountPath: path.posix.dirname(PodLayout.announceTokenFile),
  readOnly: true,
});

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
