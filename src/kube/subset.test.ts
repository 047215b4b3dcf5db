import { describe, expect, it } from '@jest/globals';
import { isSubset } from './subset.js';

describe('isSubset', () => {
  it.each<[unknown, unknown, boolean]>([
    [{ a: 1 }, { a: 1, b: 2 }, true],
    [{ a: 1, b: 2 }, { a: 1 }, false],
    [{ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2, d: 3 }], e: 4 } }, true],
    [{ a: [1, 2] }, { a: [1, 2, 3] }, false],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: undefined }, {}, true],
    [{ a: null }, { a: null }, true],
    [{ a: {} }, { a: [] }, false],
    [[], {}, false],
    ['x', 'x', true],
    [1, '1', false],
  ])('%j ⊆ %j is %s', (desired, actual, expected) => {
    expect(isSubset(desired, actual)).toBe(expected);
  });
});
