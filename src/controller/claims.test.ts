import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { formatClaim } from '../routing/claim.js';
import { RouteTable } from '../routing/table.js';
import { functionSpec } from '../testing/specs.js';
import { ClaimTracker } from './claims.js';

const CREATED = '2026-01-01T00:00:00.000Z';

function fn(name: string, route: string, claim?: string): V1Deployment {
  return {
    metadata: {
      name,
      namespace: 'demo',
      creationTimestamp: new Date(CREATED),
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'image',
        'cloudbase.dev/route': route,
        ...(claim === undefined ? {} : { 'cloudbase.dev/claim': claim }),
      },
    },
  };
}

function tracker(clock: { now: number }) {
  return new ClaimTracker(new RouteTable(), () => clock.now);
}

describe('ClaimTracker', () => {
  it('dates a recorded claim by its record, and says it is current', () => {
    const claims = tracker({ now: 0 });
    const at = Date.parse('2026-05-01T00:00:00Z');
    claims.update(
      'demo/a',
      fn('a', '/x', formatClaim(functionSpec('demo/a', { 'cloudbase.dev/route': '/x' }), at)),
    );
    expect(claims.table.get('demo/a')?.claimedAt).toBe(at);
    expect(claims.recorded('demo/a')).toEqual({ state: 'current', at });
  });

  it('dates a function from before claims by its creation, and a stale record by when it was first seen', () => {
    const clock = { now: Date.parse('2026-11-01T00:00:00Z') };
    const claims = tracker(clock);
    claims.update('demo/old', fn('old', '/old'));
    expect(claims.table.get('demo/old')?.claimedAt).toBe(Date.parse(CREATED));
    const stale = formatClaim(functionSpec('demo/moved', { 'cloudbase.dev/route': '/before' }), 0);
    claims.update('demo/moved', fn('moved', '/after', stale));
    const firstSeen = clock.now;
    expect(claims.table.get('demo/moved')?.claimedAt).toBe(firstSeen);
    // Seen again later in the same shape: still dated when first seen, so a restartless resync changes nothing.
    clock.now += 60_000;
    expect(claims.update('demo/moved', fn('moved', '/after', stale))).toEqual([]);
    expect(claims.table.get('demo/moved')?.claimedAt).toBe(firstSeen);
    expect(claims.recorded('demo/moved')).toEqual({ state: 'stale' });
  });

  it('reports the functions to look at again when a claim moves or goes away', () => {
    const claims = tracker({ now: 0 });
    claims.update('demo/a', fn('a', '/x'));
    claims.update('demo/b', fn('b', '/x'));
    claims.update('demo/c', fn('c', '/y'));
    expect(claims.update('demo/a', fn('a', '/y')).sort()).toEqual(['demo/b', 'demo/c']);
    expect(claims.update('demo/c', undefined)).toEqual(['demo/a']);
    expect(claims.table.size).toBe(2);
    expect(claims.recorded('demo/c')).toBeUndefined();
  });

  it('drops the claim of a Deployment that stopped being a function', () => {
    const claims = tracker({ now: 0 });
    claims.update('demo/a', fn('a', '/x'));
    const plain = fn('a', '/x');
    delete plain.metadata!.annotations!['cloudbase.dev/function'];
    claims.update('demo/a', plain);
    expect(claims.table.get('demo/a')).toBeUndefined();
  });
});
