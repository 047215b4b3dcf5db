import { describe, expect, it } from '@jest/globals';
import { bucketOf, RequestTally } from './request-tally.js';

describe('bucketOf', () => {
  it.each([
    [0, 0],
    [0.001, 0],
    [0.0011, 1],
    [0.01, 1],
    [0.5, 2],
    [0.51, -1],
  ])('puts %s s in bucket %s of [0.001, 0.01, 0.5]', (seconds, bucket) => {
    expect(bucketOf([0.001, 0.01, 0.5], seconds)).toBe(bucket);
  });
});

describe('RequestTally', () => {
  it('counts answers by method and status, in order of first answer, with their durations in buckets', () => {
    const tally = new RequestTally([0.01, 0.1]);
    tally.observe('GET', 200, 0.005);
    tally.observe('GET', 200, 0.05);
    tally.observe('GET', 200, 3);
    tally.observe('POST', 200, 0.2);
    tally.observe('GET', 500, 0.01);
    expect(tally.series()).toEqual([
      { method: 'GET', status: '200', count: 3, sumSeconds: 0.005 + 0.05 + 3, perBucket: [1, 1] },
      { method: 'POST', status: '200', count: 1, sumSeconds: 0.2, perBucket: [0, 0] },
      { method: 'GET', status: '500', count: 1, sumSeconds: 0.01, perBucket: [1, 0] },
    ]);
  });

  it('forgets everything when cleared', () => {
    const tally = new RequestTally([1]);
    tally.observe('GET', 200, 0.5);
    tally.clear();
    expect(tally.series()).toEqual([]);
  });
});
