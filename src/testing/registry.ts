/** The function registry's HTTP API, as tests and benchmarks on the host reach it (its NodePort). */
import type { ClusterEnv } from './cluster.js';

/** The registry's in-cluster name (its Service), the host part of every function image. */
export const FUNCTION_REGISTRY_HOST = 'cloudbase-registry.cloudbase-system.svc:5000';
export const FUNCTION_REGISTRY = `${FUNCTION_REGISTRY_HOST}/functions`;

const MANIFEST_TYPES =
  'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** The registry's API on the host: its NodePort on the node's address. */
function apiBase(env: ClusterEnv): string {
  return `http://${new URL(env.traefikUrl).hostname}:30500/v2`;
}

/** `<host>/<repository>@sha256:...` → repository and digest. */
function splitImage(image: string): { repository: string; digest: string } {
  const [repository = '', digest = ''] = image.slice(`${FUNCTION_REGISTRY_HOST}/`.length).split('@');
  return { repository, digest };
}

/** A repository's tags (`<host>/<repository>`), or none when the registry has no such repository. */
export async function repositoryTags(env: ClusterEnv, repository: string): Promise<string[]> {
  const path = repository.slice(`${FUNCTION_REGISTRY_HOST}/`.length);
  const response = await fetch(`${apiBase(env)}/${path}/tags/list`);
  if (response.status === 404) return [];
  if (response.status !== 200)
    throw new Error(`tags of ${path}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}

/** The HTTP status of a HEAD of an image's manifest: 200 while it is in the registry, 404 once deleted. */
export async function manifestStatus(env: ClusterEnv, image: string): Promise<number> {
  const { repository, digest } = splitImage(image);
  const response = await fetch(`${apiBase(env)}/${repository}/manifests/${digest}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_TYPES },
  });
  return response.status;
}

/** The HTTP status of a HEAD of a blob in a repository (`<host>/<repository>`). */
export async function blobStatus(env: ClusterEnv, repository: string, digest: string): Promise<number> {
  const path = repository.slice(`${FUNCTION_REGISTRY_HOST}/`.length);
  return (await fetch(`${apiBase(env)}/${path}/blobs/${digest}`, { method: 'HEAD' })).status;
}

/** The layers of a pushed image (`<host>/<repository>@sha256:...`), read from the registry's API. */
export async function imageLayers(
  env: ClusterEnv,
  image: string,
): Promise<{ digest: string; size: number }[]> {
  const { repository, digest } = splitImage(image);
  const url = `${apiBase(env)}/${repository}/manifests/${digest}`;
  const response = await fetch(url, { headers: { accept: MANIFEST_TYPES } });
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  const manifest = (await response.json()) as { layers: { digest: string; size: number }[] };
  return manifest.layers;
}
