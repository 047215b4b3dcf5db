/**
 * True when every field of `desired` has the same value in `actual`; `actual` may have more.
 *
 * The API server applies defaults (imagePullPolicy, terminationMessagePath, a ConfigMap volume's defaultMode,
 * ...) before mutating webhooks see an object, so what we injected comes back with extra fields. Comparing
 * as a subset lets a re-admission keep the defaulted copy, so it yields no patch and no rollout.
 */
export function isSubset(desired: unknown, actual: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      desired.length === actual.length &&
      desired.every((item, i) => isSubset(item, actual[i]))
    );
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const actualRecord = actual as Record<string, unknown>;
    return Object.entries(desired).every(
      ([key, value]) => value === undefined || isSubset(value, actualRecord[key]),
    );
  }
  return desired === actual;
}
