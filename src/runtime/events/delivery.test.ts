import { describe, expect, it } from '@jest/globals';
import type { InvokeOutcome } from '../http/invoke.js';
import { decideDelivery, exhausted } from './delivery.js';

const policy = { maxAttempts: 3, backoffMs: [1000, 5000] };
const answered = (status: number, body = ''): InvokeOutcome => ({
  kind: 'answered',
  response: { status, headers: {}, body },
});

describe('decideDelivery', () => {
  it.each<[string, InvokeOutcome, number, ReturnType<typeof decideDelivery>]>([
    ['a 200 acks', answered(200), 1, { kind: 'ack' }],
    ['a 204 acks', answered(204), 3, { kind: 'ack' }],
    [
      'a 500 on attempt 1 retries after the first delay',
      answered(500, 'db down\nstack'),
      1,
      { kind: 'retry', delayMs: 1000, reason: 'the function answered 500: db down' },
    ],
    [
      'a throw on attempt 2 retries after the second delay',
      { kind: 'exception', error: new Error('boom'), response: { status: 500, headers: {}, body: '' } },
      2,
      { kind: 'retry', delayMs: 5000, reason: 'the function threw: boom' },
    ],
    [
      'a timeout on the last attempt dead-letters',
      { kind: 'timeout', response: { status: 504, headers: {}, body: '' } },
      3,
      {
        kind: 'dead-letter',
        reason: 'attempt 3 of 3 failed: the function did not answer within its timeout',
      },
    ],
    [
      'a 400 dead-letters at once',
      answered(400, 'no order id'),
      1,
      { kind: 'dead-letter', reason: 'the function answered 400: no order id, which no retry mends' },
    ],
    [
      'a client error the adapter raised dead-letters at once',
      { kind: 'client-error', response: { status: 422, headers: {}, body: Buffer.from('bad json') } },
      1,
      { kind: 'dead-letter', reason: 'the function answered 422: bad json, which no retry mends' },
    ],
    [
      'a 429 retries',
      answered(429),
      1,
      { kind: 'retry', delayMs: 1000, reason: 'the function answered 429' },
    ],
  ])('%s', (_case, outcome, attempt, expected) => {
    expect(decideDelivery(outcome, attempt, policy)).toEqual(expected);
  });

  it('with one attempt, dead-letters the first failure', () => {
    expect(decideDelivery(answered(503), 1, { maxAttempts: 1, backoffMs: [0] }).kind).toBe('dead-letter');
  });
});

describe('exhausted', () => {
  it('lets every attempt up to the last run the handler', () => {
    expect(exhausted(3, policy)).toBeUndefined();
  });

  it('dead-letters a delivery beyond the last attempt without running the handler', () => {
    expect(exhausted(4, policy)).toEqual({
      kind: 'dead-letter',
      reason:
        'delivered again after its last attempt (3 of 3), whose pod stopped before it answered or could not dead-letter it',
    });
  });
});
