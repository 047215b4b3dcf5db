/** Which shape a build takes (builder/job.ts BuildPlan), decided from what the controller can see. Pure. */
import { dependenciesKey } from '../contract/build.js';
import { LOCKFILES } from '../contract/source-files.js';
import type { BuildPlan } from './job.js';

/**
 * The build's shape from a ConfigMap's files: no lockfile, code only; a lockfile whose dependencies key is
 * the one of the image the function runs, code only onto that image's dependencies; otherwise (or for a
 * tarball, whose files the controller does not see) a build that may install.
 */
export function planBuild(
  files: Readonly<Record<string, string>> | undefined,
  salt: string,
  builtDependencies: string | undefined,
  repository: string,
): { plan: BuildPlan; depsKey?: string } {
  if (files === undefined) return { plan: { kind: 'install' } };
  const lockfile = LOCKFILES.find((name) => files[name] !== undefined);
  if (lockfile === undefined) return { plan: { kind: 'code' } };
  const depsKey = dependenciesKey(files['package.json'], { name: lockfile, content: files[lockfile]! }, salt);
  return depsKey === builtDependencies
    ? { plan: { kind: 'code', depsImage: `${repository}:deps-${depsKey}` }, depsKey }
    : { plan: { kind: 'install' }, depsKey };
}
