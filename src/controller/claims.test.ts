import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { ClaimIndex } from './claims.js';

function fn(name: string, route: string, created = '2026-01-01T00:00:00Z'): V1Deployment {
  return {
    metadata: {
      name,
      namespace: 'demo',
      creationTimestamp: new Date(created),
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'image',
        'cloudbase.dev/route': route,
      },
    },
  };
}

describe('ClaimIndex', () => {
  it('finds the competitors of a route and only those', () => {
    const index = new ClaimIndex();
    index.update('demo/a', fn('a', '/x'));
    index.update('demo/b', fn('b', '/x'));
    index.update('demo/c', fn('c', '/y'));
    const competitors = index.competitors(index.get('demo/a')!.spec);
    expect(competitors.map((c) => c.key).sort()).toEqual(['demo/a', 'demo/b']);
  });

  it('reports the functions to look at again when a claim moves or goes away', () => {
    const index = new ClaimIndex();
    index.update('demo/a', fn('a', '/x'));
    index.update('demo/b', fn('b', '/x'));
    index.update('demo/c', fn('c', '/y'));
    expect(index.update('demo/a', fn('a', '/y'))).toEqual(expect.arrayContaining(['demo/b', 'demo/c']));
    expect(index.update('demo/c', undefined)).toEqual(['demo/a']);
    expect(index.size).toBe(2);
  });

  it('reports nothing when a claim did not change', () => {
    const index = new ClaimIndex();
    index.update('demo/a', fn('a', '/x'));
    index.update('demo/b', fn('b', '/x'));
    expect(index.update('demo/a', fn('a', '/x'))).toEqual([]);
  });

  it('drops the claim of a Deployment that stopped being a function', () => {
    const index = new ClaimIndex();
    index.update('demo/a', fn('a', '/x'));
    const plain = fn('a', '/x');
    delete plain.metadata!.annotations!['cloudbase.dev/function'];
    index.update('demo/a', plain);
    expect(index.size).toBe(0);
  });
});
