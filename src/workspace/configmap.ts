/**
 * Copies a function's source from its ConfigMap volume into the workspace.
 *
 * ConfigMap keys cannot contain `/` (they match `[-._a-zA-Z0-9]+`), so a nested path is encoded with `__`
 * as the separator: the key `lib__util.js` becomes `lib/util.js`. Kubernetes mounts a ConfigMap as
 * top-level symlinks `<key> -> ..data/<key>`, with `..data` pointing at a timestamped directory; only the
 * top-level keys are read. https://kubernetes.io/docs/concepts/configuration/configmap/#configmap-object
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KEY_PATH_SEPARATOR } from '../contract/source-files.js';
import { BuildFailure } from './failure.js';

/** The workspace-relative path a key stands for, or why the key is refused. */
export function decodeConfigMapKey(key: string): { path: string } | { error: string } {
  if (key.includes('/') || key.includes('\\'))
    return { error: `key ${JSON.stringify(key)} contains a path separator; encode directories with "__"` };
  const segments = key.split(KEY_PATH_SEPARATOR);
  if (segments.some((s) => s === ''))
    return {
      error: `key ${JSON.stringify(key)} has an empty path segment (leading, trailing or doubled "__")`,
    };
  if (segments.some((s) => s === '.' || s === '..'))
    return {
      error: `key ${JSON.stringify(key)} decodes to ${JSON.stringify(segments.join('/'))}, which leaves the workspace`,
    };
  return { path: segments.join('/') };
}

/**
 * Kubernetes' own entries in a ConfigMap volume (`..data`, `..2024_01_01_00_00_00.123`). No key can clash:
 * Kubernetes refuses ConfigMap keys that start with `..`.
 */
export function isVolumeInternal(name: string): boolean {
  return name.startsWith('..');
}

/** Copies every key of the mounted ConfigMap into `workspace`; returns the written relative paths. */
export async function copyConfigMap(
  dir: string,
  workspace: string,
  configMapName: string,
): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !isVolumeInternal(n)).sort();
  } catch (err) {
    throw new BuildFailure(
      `cannot read the ConfigMap ${configMapName} at ${dir}: ${(err as Error).message}; is it mounted?`,
    );
  }
  if (names.length === 0)
    throw new BuildFailure(
      `the ConfigMap ${configMapName} mounted at ${dir} has no keys; add the function's files to it`,
    );
  const decoded = names.map((key) => ({ key, ...decodeConfigMapKey(key) }));
  const refused = decoded.filter((d): d is { key: string; error: string } => 'error' in d);
  if (refused.length > 0)
    throw new BuildFailure(
      `the ConfigMap ${configMapName} has keys that are not file paths: ${refused.map((r) => r.error).join('; ')}`,
    );
  const written: string[] = [];
  for (const { key, path: rel } of decoded as { key: string; path: string }[]) {
    const dest = path.join(workspace, rel);
    try {
      const data = await readFile(path.join(dir, key));
      await mkdir(path.dirname(dest), { recursive: true });
      await writeFile(dest, data, { mode: 0o644 });
    } catch (err) {
      throw new BuildFailure(
        `cannot copy key ${key} of the ConfigMap ${configMapName} to ${dest}: ${(err as Error).message}`,
      );
    }
    written.push(rel);
  }
  return written;
}
