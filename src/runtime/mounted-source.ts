import { readdir } from 'node:fs/promises';
import { isVolumeInternal } from '../workspace/configmap.js';
import { RuntimeEnv, configMapSourceName } from '../contract/runtime-env.js';
import { buildReason } from '../contract/source-files.js';

/**
 * When the webhook mounted the function's ConfigMap as the workspace (it needed no build at admission), checks
 * that it still needs none: a lockfile or a nested path added since would otherwise fail later as a missing
 * module. Throws with what to do; does nothing for a workspace the build step filled.
 */
export async function assertMountedSourceNeedsNoBuild(
  env: NodeJS.ProcessEnv,
  workspace: string,
): Promise<void> {
  const configMap = configMapSourceName(env[RuntimeEnv.source]?.trim() ?? '');
  if (configMap === undefined) return;
  let keys: string[];
  try {
    keys = (await readdir(workspace)).filter((name) => !isVolumeInternal(name));
  } catch (err) {
    throw new Error(
      `cannot read the ConfigMap ${configMap} mounted at ${workspace}: ${(err as Error).message}`,
    );
  }
  const reason = buildReason(keys);
  if (reason === undefined) return;
  const name = env[RuntimeEnv.functionName] ?? '';
  throw new Error(
    `the ConfigMap ${configMap} now needs the build step (${reason}), which this pod was admitted without; ` +
      `restart the Deployment of function ${name} (kubectl rollout restart) so that Cloudbase adds it`,
  );
}
