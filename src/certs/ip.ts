import { isIP } from 'node:net';

/**
 * The network-order bytes of an IPv4 (4 bytes) or IPv6 (16 bytes) address, as an X.509 iPAddress SAN holds
 * them (RFC 5280 §4.2.1.6). Computed here because forge's own parser mishandles IPv6 with an embedded IPv4
 * part (`::ffff:10.0.0.1`). Throws on anything `node:net` `isIP` rejects.
 */
export function ipAddressBytes(ip: string): Buffer {
  switch (isIP(ip)) {
    case 4:
      return Buffer.from(ipv4Octets(ip));
    case 6:
      return Buffer.from(ipv6Groups(ip).flatMap((group) => [group >> 8, group & 0xff]));
    default:
      throw new Error(`IP address ${JSON.stringify(ip)} is neither IPv4 nor IPv6`);
  }
}

/**
 * The canonical text of an IP address, so addresses read back from a certificate compare equal to the ones
 * asked for: IPv4 unchanged, IPv6 in RFC 5952 form (lower case, longest run of zero groups as `::`, an
 * IPv4-mapped tail in hex). Throws on anything `node:net` `isIP` rejects.
 */
export function canonicalIp(ip: string): string {
  const version = isIP(ip);
  if (version === 4) return ip;
  if (version !== 6) throw new Error(`IP address ${JSON.stringify(ip)} is neither IPv4 nor IPv6`);
  const groups = ipv6Groups(ip).map((group) => group.toString(16));
  const run = longestZeroRun(groups);
  if (run.length < 2) return groups.join(':');
  return `${groups.slice(0, run.start).join(':')}::${groups.slice(run.start + run.length).join(':')}`;
}

/** The first longest run of `0` groups (RFC 5952 §4.2.3). */
function longestZeroRun(groups: string[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  groups.forEach((group, index) => {
    if (group !== '0') {
      start = -1;
      return;
    }
    if (start === -1) start = index;
    if (index - start + 1 > best.length) best = { start, length: index - start + 1 };
  });
  return best;
}

function ipv4Octets(ip: string): number[] {
  return ip.split('.').map((octet) => Number.parseInt(octet, 10));
}

/** The eight 16-bit groups of an IPv6 address already validated by isIP: expands `::` and a dotted IPv4 tail. */
function ipv6Groups(ip: string): number[] {
  const address = ip.split('%')[0]!;
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a, b, c, d] = ipv4Octets(group) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const gap = address.indexOf('::');
  if (gap === -1) return parse(address);
  const head = parse(address.slice(0, gap));
  const tail = parse(address.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
