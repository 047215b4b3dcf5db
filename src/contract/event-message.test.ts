import { describe, expect, it } from '@jest/globals';
import { eventMessageId } from './event-message.js';

describe('eventMessageId', () => {
  const event = { source: '/shop', id: 'order-1' };

  it('is the same for one event published twice into one namespace (a retry is a duplicate)', () => {
    expect(eventMessageId('shop', event)).toBe(eventMessageId('shop', { ...event }));
  });

  it("differs between namespaces: one tenant cannot make another tenant's event a duplicate", () => {
    expect(eventMessageId('shop', event)).not.toBe(eventMessageId('bank', event));
  });

  it.each([
    [
      { source: '/a', id: 'b/c' },
      { source: '/a/b', id: 'c' },
    ],
    [
      { source: 'x', id: 'y' },
      { source: 'y', id: 'x' },
    ],
  ])('tells %j from %j', (one, other) => {
    expect(eventMessageId('ns', one)).not.toBe(eventMessageId('ns', other));
  });
});
