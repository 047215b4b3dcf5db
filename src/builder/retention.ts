/**
 * Which of a function's images stay in the registry. A build pushes `<repository>:build-<key>` (and its
 * dependencies image, `:deps-<key>`); the function keeps the images of its last few build inputs, newest
 * first in `cloudbase.dev/build-history`, and the build that pushes a new one deletes the rest
 * (scripts.ts pruneScript). More than one is kept so that a rollout's old pods, and a rollback, still find
 * their image. Pure.
 */
import { StatusAnnotation } from '../contract/annotations.js';
import type { BuiltImage } from '../contract/build.js';

/** The fewest images a function keeps: the one it runs and the one before, which a rollout's old pods run. */
export const MIN_KEPT_IMAGES = 2;

const KEY = /^[0-9a-f]{64}$/;

/**
 * The build inputs the function keeps images of, newest first, from its annotations: the history, or for a
 * function built before there was one, the input of the image it runs. Anything not a key is ignored (a hand
 * edit cannot make a build delete more than the function's own older images).
 */
export function buildHistoryOf(
  annotations: Readonly<Record<string, string>> | undefined,
  built: BuiltImage | undefined,
): string[] {
  const listed = (annotations?.[StatusAnnotation.buildHistory] ?? '').split(/\s+/).filter((k) => KEY.test(k));
  return unique(listed.length > 0 ? listed : built === undefined ? [] : [built.key]);
}

/**
 * The inputs whose images stay once the build of `key` is recorded: it, then the newest of the history, at
 * most `keep` in all. Its value is both what the build keeps and the history recorded after it.
 */
export function keptBuilds(history: readonly string[], key: string, keep: number): string[] {
  return unique([key, ...history]).slice(0, Math.max(keep, 1));
}

function unique(keys: readonly string[]): string[] {
  return [...new Set(keys)];
}
