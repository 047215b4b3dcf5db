import { describe, expect, it } from '@jest/globals';
import { functionSpec } from '../testing/specs.js';
import { isWithin, routesOverlap } from './overlap.js';

const spec = (key: string, route: string, extra: Record<string, string> = {}) =>
  functionSpec(key, { 'cloudbase.dev/route': route, ...extra });
const host = (name: string) => ({ 'cloudbase.dev/host': name });

describe('routesOverlap', () => {
  it.each<[string, ReturnType<typeof spec>, ReturnType<typeof spec>, boolean]>([
    ['the same route in two namespaces', spec('a/x', '/shop'), spec('b/y', '/shop'), true],
    ['a nested path across namespaces', spec('a/x', '/shop'), spec('b/y', '/shop/checkout'), true],
    ['the root route and any other, across namespaces', spec('a/x', '/'), spec('b/y', '/anything'), true],
    ['a longer name that is not a sub-path', spec('a/x', '/shop'), spec('b/y', '/shopping'), false],
    ['sibling paths', spec('a/x', '/shop/a'), spec('b/y', '/shop/b'), false],
    ['a host-bound route over a host-less one', spec('a/x', '/'), spec('b/y', '/', host('h.example')), true],
    ['two different hosts', spec('a/x', '/', host('a.example')), spec('b/y', '/', host('b.example')), false],
    [
      'the same host and a nested path',
      spec('a/x', '/a', host('h.example')),
      spec('b/y', '/a/b', host('h.example')),
      true,
    ],
    [
      'disjoint entrypoints',
      spec('a/x', '/shop'),
      spec('b/y', '/shop', { 'cloudbase.dev/entrypoints': 'websecure' }),
      false,
    ],
    [
      'one shared entrypoint of several',
      spec('a/x', '/shop', { 'cloudbase.dev/entrypoints': 'web,websecure' }),
      spec('b/y', '/shop', { 'cloudbase.dev/entrypoints': 'websecure' }),
      true,
    ],
    ['the same route inside one namespace', spec('a/x', '/shop'), spec('a/y', '/shop'), true],
    [
      'a nested path inside one namespace (a team routes its own sub-paths)',
      spec('a/x', '/shop'),
      spec('a/y', '/shop/checkout'),
      false,
    ],
    [
      'host over host-less inside one namespace',
      spec('a/x', '/'),
      spec('a/y', '/', host('h.example')),
      false,
    ],
  ])('%s: %s', (_case, a, b, expected) => {
    expect(routesOverlap(a, b)).toBe(expected);
    expect(routesOverlap(b, a)).toBe(expected);
  });
});

describe('isWithin', () => {
  it.each([
    ['/shop', '/shop', true],
    ['/shop/x', '/shop', true],
    ['/shopping', '/shop', false],
    ['/shop', '/shop/x', false],
    ['/anything', '/', true],
  ])('%s within %s is %s', (path, prefix, expected) => {
    expect(isWithin(path, prefix)).toBe(expected);
  });
});
