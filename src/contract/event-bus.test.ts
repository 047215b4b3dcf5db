import { describe, expect, it } from '@jest/globals';
import {
  backoffAfter,
  consumerFilterSubjects,
  deadLetterFilter,
  deadLetterSubject,
  isReplaySubject,
  parseDeadLetterSubject,
  replaySubject,
  consumerName,
  eventSubject,
  isEventType,
  isEventTypePattern,
  subjectMatches,
  typeMatches,
} from './event-bus.js';

describe('isEventType', () => {
  it.each([
    ['orders.created', true],
    ['com.example.order:v1', true],
    ['dev.knative.apiserver.resource.add', true],
    ['a', true],
    ['orders..created', false],
    ['.orders', false],
    ['orders.', false],
    ['a b', false],
    ['orders.*', false],
    ['orders.>', false],
    ['', false],
    ['ü', false],
    ['x'.repeat(201), false],
  ])('%s is %s', (type, expected) => {
    expect(isEventType(type)).toBe(expected);
  });
});

describe('isEventTypePattern', () => {
  it.each([
    ['orders.created', true],
    ['orders.*', true],
    ['*', false],
    ['orders.*.created', false],
    ['orders*', false],
    ['orders.>', false],
  ])('%s is %s', (pattern, expected) => {
    expect(isEventTypePattern(pattern)).toBe(expected);
  });
});

describe('typeMatches', () => {
  it.each([
    ['orders.created', 'orders.created', true],
    ['orders.created', 'orders.created.v2', false],
    ['orders.*', 'orders.created', true],
    ['orders.*', 'orders.created.v2', false],
    ['orders.*', 'orders', false],
    ['orders.*', 'ordersx.created', false],
  ])('%s matches %s: %s', (pattern, type, expected) => {
    expect(typeMatches(pattern, type)).toBe(expected);
  });
});

describe('subjects and names', () => {
  it('puts an event on a subject of its namespace and type', () => {
    expect(eventSubject('shop', 'orders.created')).toBe('cloudbase.events.shop.orders.created');
  });

  it("filters a consumer to its patterns in its own namespace, so another namespace's events never reach it, and to its own replays", () => {
    expect(
      consumerFilterSubjects(
        { namespace: 'shop', name: 'billing' },
        { types: ['orders.*', 'a'], maxAttempts: 5, backoffMs: [0], concurrency: 1 },
      ),
    ).toEqual(['cloudbase.events.shop.orders.*', 'cloudbase.events.shop.a', 'cloudbase.replay.shop.billing']);
    expect(isReplaySubject(replaySubject('shop', 'billing'))).toBe(true);
    expect(isReplaySubject(eventSubject('shop', 'replay.x'))).toBe(false);
  });

  it('reads the namespace and function of a dead-letter subject, and nothing of another', () => {
    expect(parseDeadLetterSubject(deadLetterSubject('shop', 'billing'))).toEqual({
      namespace: 'shop',
      name: 'billing',
    });
    expect(deadLetterFilter('shop')).toBe('cloudbase.deadletter.shop.*');
    expect(deadLetterFilter('shop', 'billing')).toBe('cloudbase.deadletter.shop.billing');
    for (const other of [
      'cloudbase.events.shop.billing',
      'cloudbase.deadletter.shop',
      'cloudbase.deadletter.shop.a.b',
    ])
      expect(parseDeadLetterSubject(other)).toBeUndefined();
  });

  it('names a consumer by namespace and function, which no other pair shares', () => {
    expect(consumerName('a-b', 'c')).toBe('a-b_c');
    expect(consumerName('a', 'b-c')).not.toBe(consumerName('a-b', 'c'));
  });
});

describe('backoffAfter', () => {
  const events = { backoffMs: [1000, 5000, 30_000] };
  it.each([
    [1, 1000],
    [2, 5000],
    [3, 30_000],
    [4, 30_000],
    [40, 30_000],
  ])('after attempt %i waits %i ms (the last delay repeats)', (attempt, delay) => {
    expect(backoffAfter(events, attempt)).toBe(delay);
  });
});

describe('subjectMatches', () => {
  it.each([
    ['cloudbase.events.a.orders.created', 'cloudbase.events.a.orders.created', true],
    ['cloudbase.events.a.orders.*', 'cloudbase.events.a.orders.created', true],
    ['cloudbase.events.a.orders.*', 'cloudbase.events.a.orders', false],
    ['cloudbase.events.a.orders.*', 'cloudbase.events.a.orders.created.v2', false],
    ['cloudbase.events.a.orders.*', 'cloudbase.events.b.orders.created', false],
    ['cloudbase.events.>', 'cloudbase.events.a.orders', true],
    ['cloudbase.events.>', 'cloudbase.events', false],
    ['cloudbase.events.a.orders.created', 'cloudbase.events.a.orders.created.v2', false],
    ['cloudbase.events.a.orders.created', 'cloudbase.events.a.orders', false],
  ])('%s takes %s: %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });
});
