import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { functionSpec } from '../testing/specs.js';
import { admittedClaim, claimOfDeployment, formatClaim, readClaim } from './claim.js';

const shop = functionSpec('team-a/shop', { 'cloudbase.dev/route': '/shop' });
const moved = functionSpec('team-a/shop', { 'cloudbase.dev/route': '/store' });
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const T1 = Date.parse('2026-06-01T00:00:00.000Z');
const NOW = new Date('2026-12-01T12:00:00.000Z');

describe('the claim record', () => {
  it('says when, which function and which route, readably', () => {
    expect(formatClaim(shop, T0)).toBe('2026-01-01T00:00:00.000Z shop web:*/shop');
    expect(
      formatClaim(
        functionSpec('a/x', {
          'cloudbase.dev/host': 'h.example',
          'cloudbase.dev/entrypoints': 'websecure,web',
        }),
        T0,
      ),
    ).toBe('2026-01-01T00:00:00.000Z x web,websecure:h.example/a/x');
  });

  it.each<[string, string | undefined, ReturnType<typeof readClaim>]>([
    ['a record of this name and route', formatClaim(shop, T0), { state: 'current', at: T0 }],
    ['no record', undefined, { state: 'missing' }],
    ['a record of another route', formatClaim(moved, T0), { state: 'stale' }],
    ['an unreadable time', 'yesterday shop web:*/shop', { state: 'stale' }],
    ['a time alone', '2026-01-01T00:00:00.000Z', { state: 'stale' }],
  ])('reads %s', (_case, value, expected) => {
    expect(readClaim(value, shop)).toEqual(expected);
  });
});

describe('admittedClaim', () => {
  it.each<[string, Parameters<typeof admittedClaim>[1], ReturnType<typeof functionSpec>, number]>([
    ['a CREATE claims now, whatever the user wrote', undefined, shop, NOW.getTime()],
    [
      'an UPDATE keeping name and route keeps the stored claim',
      { spec: shop, claim: formatClaim(shop, T1), createdAt: T0 },
      shop,
      T1,
    ],
    [
      'an UPDATE moving the route claims now (an old Deployment gains no seniority)',
      { spec: shop, claim: formatClaim(shop, T0), createdAt: T0 },
      moved,
      NOW.getTime(),
    ],
    [
      'a function stored before claims were recorded keeps its creation time',
      { spec: shop, claim: undefined, createdAt: T0 },
      shop,
      T0,
    ],
    [
      'a stale record (edited while the webhook was away) claims now',
      { spec: shop, claim: formatClaim(moved, T0), createdAt: T0 },
      shop,
      NOW.getTime(),
    ],
    [
      'a record older than the Deployment counts from its creation',
      { spec: shop, claim: formatClaim(shop, T0), createdAt: T1 },
      shop,
      T1,
    ],
    [
      'a stored object that was no function claims now',
      { spec: undefined, claim: formatClaim(shop, T0), createdAt: T0 },
      shop,
      NOW.getTime(),
    ],
  ])('%s', (_case, previous, spec, at) => {
    expect(admittedClaim(spec, previous, NOW)).toEqual({ at, value: formatClaim(spec, at) });
  });
});

describe('claimOfDeployment', () => {
  const deployment = (annotations: Record<string, string>): V1Deployment => ({
    metadata: {
      name: 'shop',
      namespace: 'team-a',
      creationTimestamp: new Date(T0),
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'image',
        'cloudbase.dev/route': '/shop',
        ...annotations,
      },
    },
  });

  it.each<[string, Record<string, string>, number, string]>([
    ['a current record', { 'cloudbase.dev/claim': formatClaim(shop, T1) }, T1, 'current'],
    ['no record: the creation time', {}, T0, 'missing'],
    [
      'a stale record: when first seen',
      { 'cloudbase.dev/claim': formatClaim(moved, T0) },
      NOW.getTime(),
      'stale',
    ],
    [
      'a record that reaches back before the Deployment: its creation',
      { 'cloudbase.dev/claim': formatClaim(shop, T0 - 1000) },
      T0,
      'current',
    ],
  ])('dates %s', (_case, annotations, claimedAt, state) => {
    const read = claimOfDeployment(deployment(annotations), NOW.getTime());
    expect(read?.claim).toMatchObject({ key: 'team-a/shop', claimedAt });
    expect(read?.recorded.state).toBe(state);
  });

  it('has no claim for an invalid function or a plain Deployment', () => {
    expect(claimOfDeployment(deployment({ 'cloudbase.dev/route': 'no-slash' }), 0)).toBeUndefined();
    expect(claimOfDeployment({ metadata: { name: 'web', namespace: 'a' } }, 0)).toBeUndefined();
  });
});
