import { describe, expect, it } from '@jest/globals';
import { functionSpec } from '../testing/specs.js';
import { grantProblem, hostMatches, parseGrant } from './grants.js';

const grantOf = (annotations: Record<string, string>) => parseGrant('team-a', annotations);
const fn = (annotations: Record<string, string>) => functionSpec('team-a/fn', annotations);

describe('parseGrant', () => {
  it('grants everything without annotations', () => {
    expect(parseGrant('team-a', undefined)).toEqual({ ok: true, grant: {} });
  });

  it('reads hosts and path prefixes, normalising a trailing slash', () => {
    expect(
      grantOf({
        'cloudbase.dev/allowed-hosts': 'a.example.com, *.team-a.example.com',
        'cloudbase.dev/allowed-path-prefixes': '/team-a/,/shared/team-a',
      }),
    ).toEqual({
      ok: true,
      grant: {
        hosts: ['a.example.com', '*.team-a.example.com'],
        pathPrefixes: ['/team-a', '/shared/team-a'],
      },
    });
  });

  it.each([
    [
      { 'cloudbase.dev/allowed-hosts': 'A.example.com' },
      'cloudbase.dev/allowed-hosts has "A.example.com", which is not lowercase',
    ],
    [
      { 'cloudbase.dev/allowed-hosts': 'a.example.com,' },
      'cloudbase.dev/allowed-hosts has "", which is empty',
    ],
    [
      { 'cloudbase.dev/allowed-path-prefixes': 'team-a' },
      `cloudbase.dev/allowed-path-prefixes has "team-a", which does not start with '/'`,
    ],
  ])('fails closed on %j, naming the Namespace and the annotation', (annotations, detail) => {
    const result = grantOf(annotations);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toContain('the route grant on Namespace team-a cannot be read');
      expect(result.problem).toContain(detail);
      expect(result.problem).toContain('no route is granted there');
    }
  });
});

describe('grantProblem', () => {
  const hosts = grantOf({ 'cloudbase.dev/allowed-hosts': 'a.example.com,*.team-a.example.com' });
  const paths = grantOf({ 'cloudbase.dev/allowed-path-prefixes': '/team-a' });

  it.each<[string, ReturnType<typeof grantOf>, Record<string, string>, string | undefined]>([
    ['an exact granted host', hosts, { 'cloudbase.dev/host': 'a.example.com' }, undefined],
    ['a host below a granted wildcard', hosts, { 'cloudbase.dev/host': 'x.team-a.example.com' }, undefined],
    [
      'the wildcard domain itself',
      hosts,
      { 'cloudbase.dev/host': 'team-a.example.com' },
      'host team-a.example.com is not granted to Namespace team-a, which may route a.example.com, *.team-a.example.com (cloudbase.dev/allowed-hosts); use one of them or ask a cluster admin',
    ],
    [
      'a host-less route where hosts are granted (it would take every host)',
      hosts,
      {},
      'Namespace team-a may only route hosts a.example.com, *.team-a.example.com (cloudbase.dev/allowed-hosts); set cloudbase.dev/host to one of them',
    ],
    ['the granted prefix itself', paths, { 'cloudbase.dev/route': '/team-a' }, undefined],
    ['a path below the granted prefix', paths, { 'cloudbase.dev/route': '/team-a/api' }, undefined],
    [
      'a path that only starts with the same letters',
      paths,
      { 'cloudbase.dev/route': '/team-abc' },
      'route /team-abc is not granted to Namespace team-a, which may route /team-a and below (cloudbase.dev/allowed-path-prefixes); choose a route within them or ask a cluster admin',
    ],
    ['anything without a grant', grantOf({}), { 'cloudbase.dev/route': '/' }, undefined],
  ])('%s', (_case, grant, annotations, expected) => {
    expect(grantProblem(fn(annotations), grant)).toBe(expected);
  });

  it('refuses a reserved host in any namespace, granted or not, and nothing else', () => {
    const reserved = { ok: true as const, grant: { reservedHosts: ['events.cloudbase.local'] } };
    expect(grantProblem(fn({ 'cloudbase.dev/host': 'events.cloudbase.local' }), reserved)).toBe(
      "host events.cloudbase.local is reserved for Cloudbase itself (the controller's --reserved-hosts) and routes no function; use another host",
    );
    const granted = {
      ok: true as const,
      grant: { hosts: ['*.cloudbase.local'], reservedHosts: ['events.cloudbase.local'] },
    };
    expect(grantProblem(fn({ 'cloudbase.dev/host': 'events.cloudbase.local' }), granted)).toContain(
      'is reserved',
    );
    expect(grantProblem(fn({ 'cloudbase.dev/host': 'api.cloudbase.local' }), granted)).toBeUndefined();
    expect(grantProblem(fn({}), reserved)).toBeUndefined();
  });

  it('refuses every route under an unreadable grant', () => {
    const broken = grantOf({ 'cloudbase.dev/allowed-hosts': '*' });
    expect(grantProblem(fn({ 'cloudbase.dev/host': 'a.example.com' }), broken)).toContain('cannot be read');
  });
});

describe('hostMatches', () => {
  it.each([
    ['a.example.com', 'a.example.com', true],
    ['b.example.com', 'a.example.com', false],
    ['x.y.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['badexample.com', '*.example.com', false],
  ])('%s against %s is %s', (host, pattern, expected) => {
    expect(hostMatches(host, pattern)).toBe(expected);
  });
});
