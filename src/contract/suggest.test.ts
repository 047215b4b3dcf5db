import { describe, expect, it } from '@jest/globals';
import { editDistance, nearest } from './suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['runtime', 'runtime', 0],
    ['runtim', 'runtime', 1],
    ['kitten', 'sitting', 3],
  ])('between %j and %j is %i', (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe('nearest', () => {
  const keys = ['function', 'runtime', 'source', 'source-sha256', 'route', 'host', 'entrypoints'];
  it.each([
    ['runtme', 'runtime'],
    ['sha256', 'source-sha256'],
    ['entrypoint', 'entrypoints'],
    ['hosts', 'host'],
    ['completely-unrelated-name', undefined],
  ])('for %j suggests %j', (input, expected) => {
    expect(nearest(input, keys)).toBe(expected);
  });
});
