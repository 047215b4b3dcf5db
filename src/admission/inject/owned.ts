import { isSubset } from '../../kube/subset.js';

/** Replaces items with the same name in place and appends the others, keeping the user's order. */
export function upsertByName<T extends { name: string }>(current: T[] | undefined, desired: T[]): T[] {
  const wanted = new Map(desired.map((item) => [item.name, item]));
  const result = (current ?? []).map((item) => {
    const want = wanted.get(item.name);
    if (want === undefined) return item;
    wanted.delete(item.name);
    return isSubset(want, item) ? item : want;
  });
  return [...result, ...wanted.values()];
}

/** Owned items (by name) are set to the desired ones in place; stale owned ones are dropped. */
export function reconcileOwned<T extends { name: string }>(
  current: T[] | undefined,
  desired: T[],
  ownedNames: readonly string[],
): T[] {
  const wanted = new Set(desired.map((item) => item.name));
  const withoutStale = (current ?? []).filter(
    (item) => !ownedNames.includes(item.name) || wanted.has(item.name),
  );
  return upsertByName(withoutStale, desired);
}
