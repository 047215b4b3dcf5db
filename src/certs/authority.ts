import forge from 'node-forge';

import { CertificateInputError } from './errors.js';
import { ipAddressBytes } from './ip.js';
import type { KeyPairPem } from './key-pair.js';
import { generateRsaKeyPair, type RsaKeyPair } from './keys.js';
import { randomSerialNumber } from './serial.js';
import { loadSigningAuthority, type SigningAuthority } from './signing-authority.js';
import {
  assertCommonName,
  assertDate,
  assertDnsLabel,
  assertEncodableNotAfter,
  assertIpAddresses,
  assertValidityDays,
  assertValiditySeconds,
  COMMON_NAME_MAX,
} from './validation.js';

export type { KeyPairPem } from './key-pair.js';

/** Options for {@link generateCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** Subject CN; defaults to {@link DEFAULT_CA_COMMON_NAME}. */
  commonName?: string;
  /** Lifetime in days; or {@link validitySeconds} for a short one (a forced-rotation test). */
  validityDays?: number;
  validitySeconds?: number;
  /** The issue time; defaults to the current time. Injectable so tests are deterministic. */
  now?: Date;
}

/** Options for {@link issueServingCertificate}. */
export interface ServingCertificateOptions {
  /** The Service name in front of the webhook (a DNS-1123 label). */
  service: string;
  /** The Service's namespace (a DNS-1123 label). */
  namespace: string;
  /** Extra IPv4/IPv6 addresses to accept, e.g. 127.0.0.1 for a webhook reached through a port-forward. */
  ips?: string[];
  validityDays?: number;
  validitySeconds?: number;
  now?: Date;
}

/** The CA's subject CN unless the caller names it. */
export const DEFAULT_CA_COMMON_NAME = 'cloudbase-webhook-ca';

/** Certificates start this long before `now`, so a peer whose clock runs slightly behind still accepts them. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

// GeneralName tags (RFC 5280 §4.2.1.6).
const DNS_NAME = 2;
const IP_ADDRESS = 7;

/**
 * The DNS names a client may use to reach Service `service` in `namespace`, shortest first: the API server
 * calls a webhook at `service.namespace.svc`, and the other forms are what in-cluster clients resolve.
 * https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#services
 */
export function servingDnsNames(service: string, namespace: string): string[] {
  assertDnsLabel('service', service);
  assertDnsLabel('namespace', namespace);
  const svc = `${service}.${namespace}.svc`;
  return [service, `${service}.${namespace}`, svc, `${svc}.cluster.local`];
}

/**
 * Creates a self-signed CA (RSA 2048, SHA-256) that may only sign leaf certificates. Its certificate goes into
 * the webhook configuration's `caBundle`; its key signs the serving certificate.
 */
export function generateCertificateAuthority(opts: CertificateAuthorityOptions): KeyPairPem {
  const now = opts.now ?? new Date();
  assertDate(now);
  const commonName = opts.commonName ?? DEFAULT_CA_COMMON_NAME;
  assertCommonName(commonName);
  const validity = validityWindow(now, opts);

  const keys = generateRsaKeyPair();
  const subject = [{ shortName: 'CN', value: commonName }];
  const cert = newCertificate(keys, randomSerialNumber(), validity);
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    // pathLenConstraint 0: this CA signs serving certificates, never other CAs.
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/**
 * Issues a TLS serving certificate for a Service, signed by `ca`: CN `service.namespace.svc`, SANs for every
 * name of {@link servingDnsNames} plus `ips`. It never outlives the CA (its notAfter is clamped to the CA's),
 * because a chain is only as valid as its shortest-lived certificate.
 */
export function issueServingCertificate(ca: KeyPairPem, opts: ServingCertificateOptions): KeyPairPem {
  const now = opts.now ?? new Date();
  assertDate(now);
  const dnsNames = servingDnsNames(opts.service, opts.namespace);
  const ips = opts.ips ?? [];
  assertIpAddresses(ips);
  const commonName = servingCommonName(opts.service, opts.namespace);
  const validity = validityWindow(now, opts);
  const authority = loadSigningAuthority(ca, now);
  const caNotAfter = authority.cert.validity.notAfter;

  const keys = generateRsaKeyPair();
  const cert = newCertificate(keys, serialDistinctFrom(authority.cert.serialNumber), {
    notBefore: validity.notBefore,
    notAfter: validity.notAfter < caNotAfter ? validity.notAfter : caNotAfter,
  });
  cert.setSubject([{ shortName: 'CN', value: commonName }]);
  cert.setIssuer(authority.cert.subject.attributes);
  cert.setExtensions(servingExtensions(dnsNames, ips, authority));
  cert.sign(authority.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/**
 * [now - skew, now + lifetime], in whole seconds because that is all an X.509 time holds. The skew is at most a
 * tenth of the lifetime, so a certificate of minutes is not mostly backdating (renewal is decided on the
 * whole notBefore..notAfter window).
 */
function validityWindow(now: Date, lifetime: { validityDays?: number; validitySeconds?: number }): Validity {
  let lifetimeMs: number;
  if (lifetime.validitySeconds !== undefined) {
    assertValiditySeconds(lifetime.validitySeconds);
    lifetimeMs = lifetime.validitySeconds * 1000;
  } else {
    const days = lifetime.validityDays ?? Number.NaN;
    assertValidityDays(days);
    lifetimeMs = days * DAY_MS;
    assertEncodableNotAfter(days, new Date(now.getTime() + lifetimeMs));
  }
  const notAfter = wholeSeconds(now.getTime() + lifetimeMs);
  const skew = Math.min(CLOCK_SKEW_MS, lifetimeMs / 10);
  return { notBefore: wholeSeconds(now.getTime() - skew), notAfter };
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function newCertificate(keys: RsaKeyPair, serialNumber: string, validity: Validity): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber;
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;
  return cert;
}

/** `service.namespace.svc`, which must fit the 64-character CommonName limit (RFC 5280 ub-common-name). */
function servingCommonName(service: string, namespace: string): string {
  const commonName = `${service}.${namespace}.svc`;
  if (commonName.length > COMMON_NAME_MAX) {
    throw new CertificateInputError(
      'service',
      `service and namespace are too long together: common name ${JSON.stringify(commonName)} has ` +
        `${commonName.length} characters, X.509 allows at most ${COMMON_NAME_MAX}`,
    );
  }
  return commonName;
}

/** A random serial other than the CA's: two certificates from one issuer must never share a serial. */
function serialDistinctFrom(caSerial: string): string {
  for (;;) {
    const serial = randomSerialNumber();
    if (serial.toLowerCase() !== caSerial.toLowerCase()) return serial;
  }
}

function servingExtensions(dnsNames: string[], ips: string[], authority: SigningAuthority): object[] {
  const ipBytes = [...new Set(ips.map((ip) => ipAddressBytes(ip).toString('binary')))];
  return [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...dnsNames.map((value) => ({ type: DNS_NAME, value })),
        ...ipBytes.map((value) => ({ type: IP_ADDRESS, value })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authority.keyIdentifier },
  ];
}
