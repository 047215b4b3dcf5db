import { describe, expect, it } from '@jest/globals';
import { requestIdOf } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it.each(['trace-123', 'a.b:c@d/e+f=g_h', 'x'.repeat(128)])('keeps the caller id %s', (id) => {
    expect(requestIdOf(id)).toBe(id);
  });

  it.each([
    ['no header', undefined],
    ['an empty one', ''],
    ['spaces', 'has spaces'],
    ['a newline', 'a\nb'],
    ['more than 128 characters', 'x'.repeat(129)],
    ['a repeated header', ['a', 'b']],
  ])('generates a UUID for %s', (_name, header) => {
    expect(requestIdOf(header)).toMatch(UUID);
  });

  it('generates a different id each time', () => {
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });
});
