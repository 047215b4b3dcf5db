/** Which functions a ConfigMap is the source of (`cloudbase.dev/source: configmap:NAME`). Pure. */
import type { V1Deployment } from '@kubernetes/client-node';
import { Annotation } from '../contract/annotations.js';
import { configMapSourceName } from '../contract/runtime-env.js';

/** The Deployments, of the ConfigMap's namespace, whose source annotation names `configMapName`. */
export function sourceUsers(deployments: readonly V1Deployment[], configMapName: string): V1Deployment[] {
  return deployments.filter(
    (deployment) =>
      configMapSourceName((deployment.metadata?.annotations?.[Annotation.source] ?? '').trim()) ===
      configMapName,
  );
}
