import { isIP } from 'node:net';

import { CertificateInputError } from './errors.js';

// https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL_MAX = 63;

/** RFC 5280 ub-common-name: a CommonName attribute holds at most 64 characters. */
export const COMMON_NAME_MAX = 64;

/** X.509 GeneralizedTime has a four-digit year, so no certificate can be valid past 9999. */
const LAST_ENCODABLE_YEAR = 9999;

/** Throws unless `value` is a DNS-1123 label, the form Kubernetes requires of Service and namespace names. */
export function assertDnsLabel(field: 'service' | 'namespace', value: string): void {
  if (typeof value !== 'string' || value.length > DNS_1123_LABEL_MAX || !DNS_1123_LABEL.test(value)) {
    throw new CertificateInputError(
      field,
      `${field} ${JSON.stringify(value)} is not a DNS-1123 label: use 1-${DNS_1123_LABEL_MAX} lowercase ` +
        `letters, digits or '-', starting and ending with a letter or digit`,
    );
  }
}

/** Throws unless every entry is a literal IPv4 or IPv6 address without a zone (an IP SAN cannot carry a zone). */
export function assertIpAddresses(ips: readonly string[]): void {
  for (const ip of ips) {
    if (typeof ip !== 'string' || isIP(ip) === 0 || ip.includes('%')) {
      throw new CertificateInputError(
        'ips',
        `IP address ${JSON.stringify(ip)} is not valid: use a literal IPv4 (10.0.0.1) or IPv6 (fd00::1) ` +
          `address without a zone`,
      );
    }
  }
}

/** Throws unless `days` is a positive whole number. */
export function assertValidityDays(days: number): void {
  if (!Number.isSafeInteger(days) || days <= 0) {
    throw new CertificateInputError(
      'validityDays',
      `validityDays ${String(days)} is not valid: use a positive whole number of days`,
    );
  }
}

/** Throws unless `seconds` is a whole number from 60 seconds to 100 years. */
export function assertValiditySeconds(seconds: number): void {
  if (!Number.isSafeInteger(seconds) || seconds < 60 || seconds > 100 * 365 * 86_400) {
    throw new CertificateInputError(
      'validitySeconds',
      `validitySeconds ${String(seconds)} is not valid: use a whole number of seconds from 60 to 3153600000 (100 years)`,
    );
  }
}

/** Throws unless `now` is a real date (not `new Date('garbage')`). */
export function assertDate(now: Date): void {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new CertificateInputError('now', `now ${String(now)} is not a valid Date`);
  }
}

/** Throws unless `notAfter` (derived from `days`) can be written into a certificate. */
export function assertEncodableNotAfter(days: number, notAfter: Date): void {
  if (Number.isNaN(notAfter.getTime()) || notAfter.getUTCFullYear() > LAST_ENCODABLE_YEAR) {
    throw new CertificateInputError(
      'validityDays',
      `validityDays ${days} is too large: certificates cannot be valid past the year ${LAST_ENCODABLE_YEAR}`,
    );
  }
}

// X.520 PrintableString, the type forge gives a CommonName by default.
const PRINTABLE_STRING = /^[A-Za-z0-9 '()+,\-./:=?]+$/;

/** Throws unless `name` fits a CommonName forge writes as a PrintableString: 1-64 characters from that set. */
export function assertCommonName(name: string): void {
  if (typeof name !== 'string' || name.length > COMMON_NAME_MAX || !PRINTABLE_STRING.test(name)) {
    throw new CertificateInputError(
      'commonName',
      `commonName ${JSON.stringify(name)} is not valid: use 1-${COMMON_NAME_MAX} letters, digits, spaces ` +
        `or any of ' ( ) + , - . / : = ?`,
    );
  }
}
