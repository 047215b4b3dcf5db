import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { claimOn } from '../testing/specs.js';
import { fuzzParameters } from '../testing/fuzz-seed.js';
import { parseGrant, type GrantResult } from './grants.js';
import { RouteTable } from './table.js';
import type { FunctionClaim } from './claim.js';
import { claimedBefore } from './ownership.js';
import { routesOverlap } from './overlap.js';

function tableOf(claims: FunctionClaim[], grants: Record<string, Record<string, string>> = {}): RouteTable {
  const table = new RouteTable((namespace): GrantResult => parseGrant(namespace, grants[namespace]));
  for (const claim of claims) table.update(claim.key, claim);
  return table;
}

const kind = (table: RouteTable, claim: FunctionClaim) => {
  const ownership = table.decide(claim);
  return ownership.kind === 'name-taken' || ownership.kind === 'route-held'
    ? `${ownership.kind} by ${ownership.holder.key}`
    : ownership.kind;
};

describe('route ownership', () => {
  const shopA = claimOn('team-a/shop', '/shop', '2026-01-01T00:00:00Z');

  it('refuses an old Deployment in another namespace that moves onto a held route (the claim is the move)', () => {
    const table = tableOf([shopA]);
    // Created long before, but claims /shop only now.
    const takeover = claimOn('team-b/old', '/shop', '2026-12-01T00:00:00Z');
    expect(kind(table, takeover)).toBe('route-held by team-a/shop');
    expect(kind(table, shopA)).toBe('owner');
  });

  it.each([
    [
      'a nested path in another namespace',
      claimOn('team-b/checkout', '/shop/checkout', '2026-02-01T00:00:00Z'),
      'route-held by team-a/shop',
    ],
    [
      'a host-bound route over a host-less one in another namespace',
      claimOn('team-b/x', '/shop', '2026-02-01T00:00:00Z', { 'cloudbase.dev/host': 'h.example' }),
      'route-held by team-a/shop',
    ],
    [
      'a nested path in the same namespace',
      claimOn('team-a/checkout', '/shop/checkout', '2026-02-01T00:00:00Z'),
      'owner',
    ],
    ['another route', claimOn('team-b/cart', '/cart', '2026-02-01T00:00:00Z'), 'owner'],
  ])('decides %s', (_case, claim, expected) => {
    expect(kind(tableOf([shopA]), claim)).toBe(expected);
  });

  it('never lets a later claim take a holder’s route, and hands it on when the holder goes', () => {
    const later = claimOn('team-b/shop', '/shop', '2026-03-01T00:00:00Z');
    const table = tableOf([later, shopA]);
    expect(kind(table, later)).toBe('route-held by team-a/shop');
    table.update(shopA.key, undefined);
    expect(kind(table, later)).toBe('owner');
  });

  it('lets a claim that holds nothing block no one (greedy in claim order)', () => {
    // b (host-less) overlaps a (host x) and c (host y); a and c do not overlap. b loses to a, so c is free.
    const a = claimOn('ns-a/a', '/api', '2026-01-01T00:00:00Z', { 'cloudbase.dev/host': 'x.example' });
    const b = claimOn('ns-b/b', '/api', '2026-01-02T00:00:00Z');
    const c = claimOn('ns-c/c', '/api', '2026-01-03T00:00:00Z', { 'cloudbase.dev/host': 'y.example' });
    const table = tableOf([a, b, c]);
    expect([a, b, c].map((claim) => kind(table, claim))).toEqual(['owner', 'route-held by ns-a/a', 'owner']);
  });

  it('breaks a tie in time by key, the same on every replica', () => {
    const x = claimOn('ns-a/x', '/same', '2026-01-01T00:00:00Z');
    const y = claimOn('ns-b/y', '/same', '2026-01-01T00:00:00Z');
    const table = tableOf([y, x]);
    expect([kind(table, x), kind(table, y)]).toEqual(['owner', 'route-held by ns-a/x']);
  });

  it('gives a function name to the first Deployment in the namespace that declared it', () => {
    const first = {
      ...claimOn('team-a/one', '/one', '2026-01-01T00:00:00Z', { 'cloudbase.dev/function': 'foo' }),
    };
    const second = claimOn('team-a/two', '/two', '2026-01-02T00:00:00Z', { 'cloudbase.dev/function': 'foo' });
    const elsewhere = claimOn('team-b/three', '/three', '2026-01-02T00:00:00Z', {
      'cloudbase.dev/function': 'foo',
    });
    const table = tableOf([first, second, elsewhere]);
    expect([first, second, elsewhere].map((c) => kind(table, c))).toEqual([
      'owner',
      'name-taken by team-a/one',
      'owner',
    ]);
  });

  it('enforces the namespace grant, and an ungranted route holds nothing', () => {
    const grants = { 'team-b': { 'cloudbase.dev/allowed-path-prefixes': '/team-b' } };
    const outside = claimOn('team-b/shop', '/shop', '2025-01-01T00:00:00Z');
    const table = tableOf([outside, shopA], grants);
    expect(kind(table, outside)).toBe('not-granted');
    expect(kind(table, shopA)).toBe('owner');
    expect(kind(table, claimOn('team-b/api', '/team-b/api', '2026-01-01T00:00:00Z'))).toBe('owner');
  });

  it('reports every function connected to a change, down a chain of overlaps and names', () => {
    const a = claimOn('ns-a/a', '/x', '2026-01-01T00:00:00Z');
    const b = claimOn('ns-b/b', '/x/y', '2026-01-02T00:00:00Z');
    const c = claimOn('ns-c/c', '/x/y/z', '2026-01-03T00:00:00Z');
    const d = claimOn('ns-d/d', '/elsewhere', '2026-01-03T00:00:00Z');
    const table = tableOf([a, b, c, d]);
    expect(table.update(a.key, undefined).sort()).toEqual(['ns-b/b', 'ns-c/c']);
    expect(table.update(d.key, d)).toEqual([]);
    expect(table.namespaceChanged('ns-b').sort()).toEqual(['ns-b/b', 'ns-c/c']);
  });

  it('decides as if stored: a claim in place of its stored version, or a new one', () => {
    const table = tableOf([shopA]);
    const movedAway = claimOn('team-a/shop', '/elsewhere', '2026-12-01T00:00:00Z');
    const newcomer = claimOn('team-b/shop', '/shop', '2026-12-01T00:00:00Z');
    expect(kind(table, movedAway)).toBe('owner');
    expect(kind(table, newcomer)).toBe('route-held by team-a/shop');
  });
});

describe('route ownership, for generated claims', () => {
  const claimArb = fc.record({
    namespace: fc.constantFrom('a', 'b', 'c'),
    name: fc.constantFrom('f', 'g', 'h', 'i'),
    route: fc.constantFrom('/', '/x', '/x/y', '/z'),
    host: fc.constantFrom(undefined, 'h1.example', 'h2.example'),
    at: fc.integer({ min: 0, max: 5 }),
  });
  const claimsArb = fc
    .uniqueArray(claimArb, { selector: (c) => `${c.namespace}/${c.name}`, maxLength: 8 })
    .map((items) =>
      items.map((c) =>
        claimOn(
          `${c.namespace}/${c.name}`,
          c.route,
          new Date(Date.UTC(2026, 0, 1 + c.at)).toISOString(),
          c.host === undefined ? {} : { 'cloudbase.dev/host': c.host },
        ),
      ),
    );

  it('never gives two overlapping functions their routes, and the earliest claim always keeps its own', () => {
    fc.assert(
      fc.property(claimsArb, (claims) => {
        const table = tableOf(claims);
        const owners = claims.filter((c) => table.decide(c).kind === 'owner');
        for (const x of owners)
          for (const y of owners) if (x !== y) expect(routesOverlap(x.spec, y.spec)).toBe(false);
        const first = [...claims].sort((x, y) => (claimedBefore(x, y) ? -1 : 1))[0];
        if (first !== undefined) expect(table.decide(first).kind).toBe('owner');
        // Every function without its route is blocked by an owner that claimed before it.
        for (const c of claims) {
          const ownership = table.decide(c);
          if (ownership.kind === 'route-held') {
            expect(owners.map((o) => o.key)).toContain(ownership.holder.key);
            expect(claimedBefore(ownership.holder, c)).toBe(true);
          }
        }
      }),
      { ...fuzzParameters(), numRuns: 300 },
    );
  });
});
