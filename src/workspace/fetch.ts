/** The fetch step: put the function's code into the workspace, from its ConfigMap or its tarball. */
import { mkdir } from 'node:fs/promises';
import { copyConfigMap } from './configmap.js';
import { BuildFailure } from './failure.js';
import { planFetch, type PlanOptions } from './source.js';
import { DEFAULT_TARBALL_LIMITS, fetchTarball, type TarballLimits } from './tarball.js';

export interface FetchOptions extends PlanOptions {
  limits?: TarballLimits;
  log?: (line: string) => void;
}

/** Runs the step; throws `BuildFailure` with the line to show when it cannot. */
export async function fetchSource(
  env: Readonly<Record<string, string | undefined>>,
  options: FetchOptions = {},
): Promise<string[]> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const plan = planFetch(env, options);
  if ('error' in plan) throw new BuildFailure(plan.error);
  await mkdir(plan.workspace, { recursive: true });
  if (plan.kind === 'configmap') {
    const files = await copyConfigMap(plan.dir, plan.workspace, plan.name);
    log(
      `cloudbase fetch: copied ${files.length} file(s) from the ConfigMap ${plan.name} to ${plan.workspace}: ${files.join(', ')}`,
    );
    return files;
  }
  const { files, skipped } = await fetchTarball(
    plan.url,
    plan.sha256,
    plan.workspace,
    options.limits ?? DEFAULT_TARBALL_LIMITS,
  );
  const note =
    skipped.length > 0 ? `; skipped ${skipped.length} link(s) or special file(s): ${skipped.join(', ')}` : '';
  log(
    `cloudbase fetch: extracted ${files.length} file(s) from ${plan.url.href} (sha256 ${plan.sha256}) to ${plan.workspace}${note}`,
  );
  return files;
}
