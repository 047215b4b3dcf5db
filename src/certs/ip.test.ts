import { describe, expect, it } from '@jest/globals';

import { canonicalIp, ipAddressBytes } from './ip.js';

describe('ipAddressBytes', () => {
  it.each([
    { ip: '127.0.0.1', hex: '7f000001' },
    { ip: '10.200.0.255', hex: '0ac800ff' },
    { ip: '::', hex: '00'.repeat(16) },
    { ip: '::1', hex: `${'00'.repeat(15)}01` },
    { ip: '1::', hex: `0001${'00'.repeat(14)}` },
    { ip: 'fd00::a:b', hex: `fd00${'00'.repeat(10)}000a000b` },
    { ip: '2001:DB8:0:0:1:0:0:1', hex: '20010db8000000000001000000000001' },
    { ip: '::ffff:10.0.0.1', hex: `${'00'.repeat(10)}ffff0a000001` },
    { ip: '64:ff9b::192.0.2.33', hex: `0064ff9b${'00'.repeat(8)}c0000221` },
  ])('encodes $ip in network order', ({ ip, hex }) => {
    expect(ipAddressBytes(ip).toString('hex')).toBe(hex);
  });

  it.each(['', 'localhost', '1.2.3', '1.2.3.04', '::g'])('rejects %p, naming it', (ip) => {
    expect(() => ipAddressBytes(ip)).toThrow(`IP address ${JSON.stringify(ip)} is neither IPv4 nor IPv6`);
  });
});

describe('canonicalIp', () => {
  it.each([
    { ip: '127.0.0.1', canonical: '127.0.0.1' },
    { ip: '0:0:0:0:0:0:0:1', canonical: '::1' },
    { ip: '0:0:0:0:0:0:0:0', canonical: '::' },
    { ip: 'FD00:0:0:0:0:0:A:B', canonical: 'fd00::a:b' },
    { ip: '0:0:0:0:0:FFFF:A00:1', canonical: '::ffff:a00:1' },
    { ip: '::ffff:10.0.0.1', canonical: '::ffff:a00:1' },
    { ip: '2001:db8:0:1:0:0:0:1', canonical: '2001:db8:0:1::1' },
    { ip: '2001:db8:0:0:1:0:0:1', canonical: '2001:db8::1:0:0:1' },
    { ip: '2001:db8:1:1:1:1:0:1', canonical: '2001:db8:1:1:1:1:0:1' },
  ])('writes $ip as $canonical (RFC 5952)', ({ ip, canonical }) => {
    expect(canonicalIp(ip)).toBe(canonical);
  });

  it('rejects a non-address, naming it', () => {
    expect(() => canonicalIp('example.com')).toThrow('"example.com"');
  });
});
