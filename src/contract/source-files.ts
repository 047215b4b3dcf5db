/**
 * Which files of a `configmap:` source the build init container must handle. A ConfigMap whose keys are all
 * plain file names and that has no lockfile is already the function's workspace: the pod mounts it read-only
 * where the code is loaded from and runs no build container, which saves the kubelet a container start and
 * a status relist (about a second and a half of a deploy here). Both the mutating webhook (deciding) and the
 * runtime (checking that the ConfigMap did not change since) ask this module.
 */

/** Lockfiles `npm ci` installs from, in npm's order of preference. */
export const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json'] as const;

/**
 * ConfigMap keys cannot contain `/` (they match `[-._a-zA-Z0-9]+`), so a nested path is encoded with `__`:
 * the key `lib__util.js` is the file `lib/util.js`. https://kubernetes.io/docs/concepts/configuration/configmap/
 */
export const KEY_PATH_SEPARATOR = '__';

/** Why a ConfigMap with these keys needs the build step, or undefined when it can be mounted as it is. */
export function buildReason(keys: readonly string[]): string | undefined {
  if (keys.length === 0) return 'it has no keys';
  const lockfile = LOCKFILES.find((file) => keys.includes(file));
  if (lockfile !== undefined) return `${lockfile} lists dependencies for npm ci`;
  const nested = keys.find((key) => key.includes(KEY_PATH_SEPARATOR));
  if (nested !== undefined) return `the key ${nested} stands for a nested path`;
  return undefined;
}
