/** The function registry's HTTP API, as tests and benchmarks on the host reach it (its NodePort). */
import type { ClusterEnv } from './cluster.js';

/** The registry's in-cluster name (its Service), the host part of every function image. */
export const FUNCTION_REGISTRY_HOST = 'cloudbase-registry.cloudbase-system.svc:5000';
export const FUNCTION_REGISTRY = `${FUNCTION_REGISTRY_HOST}/functions`;

const MANIFEST_TYPES =
  'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** The layers of a pushed image (`<host>/<repository>@sha256:...`), read from the registry's API. */
export async function imageLayers(
  env: ClusterEnv,
  image: string,
): Promise<{ digest: string; size: number }[]> {
  const [repository = '', digest = ''] = image.slice(`${FUNCTION_REGISTRY_HOST}/`.length).split('@');
  const url = `http://${new URL(env.traefikUrl).hostname}:30500/v2/${repository}/manifests/${digest}`;
  const response = await fetch(url, { headers: { accept: MANIFEST_TYPES } });
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  const manifest = (await response.json()) as { layers: { digest: string; size: number }[] };
  return manifest.layers;
}
