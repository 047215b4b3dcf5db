/** Levenshtein distance, small and allocation-light: annotation keys are short. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate closest to `input`, or undefined when none is close enough to be a plausible typo.
 * A candidate that contains the input (`sha256` in `source-sha256`) wins over a merely similar one.
 */
export function nearest(input: string, candidates: readonly string[]): string | undefined {
  const containing = candidates.filter((candidate) => candidate.includes(input) || input.includes(candidate));
  if (containing.length > 0)
    return containing.reduce((a, b) => (editDistance(input, b) < editDistance(input, a) ? b : a));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(input, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A suggestion further away than half the key is noise, not help.
  return bestDistance <= Math.max(3, Math.floor(input.length / 2)) ? best : undefined;
}
