import { describe, expect, it } from '@jest/globals';
import { buildReason } from './source-files.js';

describe('buildReason', () => {
  it.each([
    [['index.js'], undefined],
    [['index.js', 'package.json', '.npmrc', 'handler.mjs', 'a_b.js'], undefined],
    [[], 'it has no keys'],
    [['index.js', 'package-lock.json'], 'package-lock.json lists dependencies for npm ci'],
    [['npm-shrinkwrap.json', 'package-lock.json'], 'npm-shrinkwrap.json lists dependencies for npm ci'],
    [['index.js', 'lib__util.js'], 'the key lib__util.js stands for a nested path'],
  ])('%j: %s', (keys, reason) => {
    expect(buildReason(keys)).toBe(reason);
  });
});
