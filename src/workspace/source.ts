/**
 * Decides where the fetch step takes the function's code from, from the env the webhook injects.
 * Pure: every accepted and rejected value is a unit test.
 */
import path from 'node:path';
import { PodLayout, RuntimeEnv, configMapSourceName } from '../contract/runtime-env.js';

export type FetchPlan =
  | { kind: 'configmap'; name: string; dir: string; workspace: string }
  | { kind: 'tarball'; url: URL; sha256: string; workspace: string };

export interface PlanOptions {
  /** Accept `http://` URLs; tests serve tarballs from 127.0.0.1 without TLS. Never set in a pod. */
  allowHttp?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `configmap:<name>` → copy the mounted ConfigMap; `https://…` → download, verify and extract. */
export function planFetch(env: Env, options: PlanOptions = {}): FetchPlan | { error: string } {
  const workspace = env[RuntimeEnv.workspace]?.trim() || PodLayout.workspaceDir;
  if (!path.isAbsolute(workspace))
    return {
      error: `${RuntimeEnv.workspace}=${JSON.stringify(workspace)} is not valid: expected an absolute directory path`,
    };
  const source = env[RuntimeEnv.source]?.trim() ?? '';
  const dir = env[RuntimeEnv.sourceDir]?.trim() || PodLayout.sourceDir;
  const name = configMapSourceName(source);
  if (name !== undefined) {
    if (name === '')
      return {
        error: `${RuntimeEnv.source}=${JSON.stringify(source)} is not valid: expected configmap:<name>`,
      };
    return { kind: 'configmap', name, dir, workspace };
  }
  if (source === '')
    return {
      error: `${RuntimeEnv.source} is not set: expected configmap:<name> or an https:// URL of a .tgz (the cloudbase.dev/source annotation)`,
    };
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return {
      error: `${RuntimeEnv.source}=${JSON.stringify(source)} is not valid: expected configmap:<name> or an https:// URL of a .tgz`,
    };
  }
  if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
    return {
      error: `${RuntimeEnv.source}=${JSON.stringify(source)} is not valid: only https:// URLs are fetched`,
    };
  }
  const sha256 = env[RuntimeEnv.sourceSha256]?.trim().toLowerCase() ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    return {
      error: `${RuntimeEnv.sourceSha256}=${JSON.stringify(sha256)} is not valid: expected the 64 hex digits of the tarball's sha256 (set the cloudbase.dev/source-sha256 annotation; sha256sum <file>.tgz prints it)`,
    };
  }
  return { kind: 'tarball', url, sha256, workspace };
}
