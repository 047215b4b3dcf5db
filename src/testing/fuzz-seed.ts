import { randomInt } from 'node:crypto';

export const FUZZ_SEED_VARIABLE = 'CLOUDBASE_FUZZ_SEED';

let chosen: number | undefined;

/**
 * fast-check parameters with this test file's seed: `CLOUDBASE_FUZZ_SEED` when set, else a fresh random
 * 32-bit one, so every run explores new inputs and a failure can be repeated. The seed is printed once per
 * test file (Jest gives each file its own module registry). Signed, as fast-check reports it on a failure.
 */
export function fuzzParameters(): { seed: number } {
  if (chosen === undefined) {
    chosen = seedFrom(process.env[FUZZ_SEED_VARIABLE]);
    console.log(`fuzz seed ${chosen} (${FUZZ_SEED_VARIABLE}=${chosen} to repeat)`);
  }
  return { seed: chosen };
}

/** The seed the variable names, or a random one when it is unset or empty. */
export function seedFrom(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return randomInt(-(2 ** 31), 2 ** 31);
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 31) {
    throw new Error(`${FUZZ_SEED_VARIABLE}=${JSON.stringify(value)} is not a 32-bit integer seed`);
  }
  return seed;
}
