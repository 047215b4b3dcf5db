import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { checkServerIdentity, createSecureContext } from 'node:tls';
import forge from 'node-forge';

import {
  CLOCK_SKEW_MS,
  DEFAULT_CA_COMMON_NAME,
  generateCertificateAuthority,
  issueServingCertificate,
  servingDnsNames,
  type KeyPairPem,
} from './authority.js';
import { CertificateInputError } from './errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date('2030-01-01T00:00:00.000Z');
const serving = { service: 'webhook', namespace: 'cloudbase-system' };

// Key generation is the slow part (~0.3 s a key), so the tests share one CA and one leaf where they can.
const ca = generateCertificateAuthority({ validityDays: 365, now: NOW });
const leaf = issueServingCertificate(ca, {
  ...serving,
  ips: ['127.0.0.1', '::1', '::ffff:10.0.0.1'],
  validityDays: 90,
  now: NOW,
});
const caCert = new X509Certificate(ca.certPem);
const leafCert = new X509Certificate(leaf.certPem);

function extensionOf(pem: string, name: string): Record<string, unknown> {
  const ext: unknown = forge.pki.certificateFromPem(pem).getExtension(name);
  if (ext === undefined) throw new Error(`certificate has no ${name} extension`);
  return ext as Record<string, unknown>;
}

function subjectAltNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(', ');
}

describe('servingDnsNames', () => {
  it('lists the short, namespaced, .svc and cluster.local names of the Service, in that order', () => {
    expect(servingDnsNames('webhook', 'cloudbase-system')).toEqual([
      'webhook',
      'webhook.cloudbase-system',
      'webhook.cloudbase-system.svc',
      'webhook.cloudbase-system.svc.cluster.local',
    ]);
  });
});

describe('generateCertificateAuthority', () => {
  it('makes a self-signed CA that may sign certificates and nothing else', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe(`CN=${DEFAULT_CA_COMMON_NAME}`);
    expect(caCert.issuer).toBe(caCert.subject);
    expect(caCert.checkIssued(caCert)).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(extensionOf(ca.certPem, 'basicConstraints')).toMatchObject({ cA: true, critical: true });
    expect(extensionOf(ca.certPem, 'keyUsage')).toMatchObject({
      keyCertSign: true,
      cRLSign: true,
      digitalSignature: false,
      keyEncipherment: false,
      critical: true,
    });
    expect(extensionOf(ca.certPem, 'subjectKeyIdentifier').subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
  });

  it('uses RSA 2048 and a SHA-256 signature', () => {
    expect(caCert.publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
    expect(forge.pki.certificateFromPem(ca.certPem).siginfo.algorithmOid).toBe(
      forge.pki.oids.sha256WithRSAEncryption,
    );
  });

  it('returns the private key that belongs to the certificate', () => {
    expect(caCert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
  });

  it('names the CA as asked', () => {
    const named = generateCertificateAuthority({ commonName: 'dev CA (test)', validityDays: 1 });
    expect(new X509Certificate(named.certPem).subject).toBe('CN=dev CA (test)');
  });

  it('is valid from five minutes before now (clock skew) until validityDays after now', () => {
    expect(new Date(caCert.validFrom)).toEqual(new Date(NOW.getTime() - CLOCK_SKEW_MS));
    expect(new Date(caCert.validTo)).toEqual(new Date(NOW.getTime() + 365 * DAY_MS));
  });

  it('defaults now to the current time', () => {
    const before = Date.now();
    const fresh = new X509Certificate(generateCertificateAuthority({ validityDays: 1 }).certPem);
    const notBefore = new Date(fresh.validFrom).getTime();
    expect(notBefore).toBeGreaterThanOrEqual(Math.floor((before - CLOCK_SKEW_MS) / 1000) * 1000);
    expect(notBefore).toBeLessThanOrEqual(Date.now() - CLOCK_SKEW_MS);
  });
});

describe('issueServingCertificate', () => {
  it('names the Service as CN service.namespace.svc', () => {
    expect(leafCert.subject).toBe('CN=webhook.cloudbase-system.svc');
    expect(leafCert.issuer).toBe(caCert.subject);
  });

  it('has exactly the four Service DNS names and the IPs as SANs', () => {
    expect(subjectAltNames(leafCert)).toEqual([
      'DNS:webhook',
      'DNS:webhook.cloudbase-system',
      'DNS:webhook.cloudbase-system.svc',
      'DNS:webhook.cloudbase-system.svc.cluster.local',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:0:0:0:0:0:FFFF:A00:1',
    ]);
  });

  it('has only DNS SANs when no IPs are given', () => {
    const plain = issueServingCertificate(ca, { ...serving, validityDays: 1, now: NOW });
    expect(subjectAltNames(new X509Certificate(plain.certPem))).toEqual([
      'DNS:webhook',
      'DNS:webhook.cloudbase-system',
      'DNS:webhook.cloudbase-system.svc',
      'DNS:webhook.cloudbase-system.svc.cluster.local',
    ]);
  });

  it('lists an IP given twice once', () => {
    const twice = issueServingCertificate(ca, {
      ...serving,
      ips: ['::1', '0:0::1'],
      validityDays: 1,
      now: NOW,
    });
    expect(subjectAltNames(new X509Certificate(twice.certPem)).filter((san) => san.startsWith('IP'))).toEqual(
      ['IP Address:0:0:0:0:0:0:0:1'],
    );
  });

  it.each([
    { host: 'webhook', ok: true },
    { host: 'webhook.cloudbase-system', ok: true },
    { host: 'webhook.cloudbase-system.svc', ok: true },
    { host: 'webhook.cloudbase-system.svc.cluster.local', ok: true },
    { host: '127.0.0.1', ok: true },
    { host: '::1', ok: true },
    { host: 'other.cloudbase-system.svc', ok: false },
    { host: 'webhook.default.svc', ok: false },
    { host: '10.0.0.2', ok: false },
  ])('is accepted by a TLS client connecting to $host: $ok', ({ host, ok }) => {
    const identityError = checkServerIdentity(host, leafCert.toLegacyObject());
    expect(identityError === undefined).toBe(ok);
  });

  it('is a leaf for TLS servers: not a CA, digitalSignature+keyEncipherment, serverAuth', () => {
    expect(leafCert.ca).toBe(false);
    expect(extensionOf(leaf.certPem, 'basicConstraints')).toMatchObject({ cA: false });
    expect(extensionOf(leaf.certPem, 'keyUsage')).toMatchObject({
      digitalSignature: true,
      keyEncipherment: true,
      keyCertSign: false,
      critical: true,
    });
    expect(leafCert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it("identifies its key, and the CA's key as its authority key", () => {
    const caKeyId = extensionOf(ca.certPem, 'subjectKeyIdentifier').subjectKeyIdentifier as string;
    const leafKeyId = extensionOf(leaf.certPem, 'subjectKeyIdentifier').subjectKeyIdentifier as string;
    expect(leafKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(leafKeyId).not.toBe(caKeyId);
    const akiExt = forge.pki
      .certificateFromPem(leaf.certPem)
      .extensions.find((ext: { name: string }) => ext.name === 'authorityKeyIdentifier') as { value: string };
    // authorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier }: 30 16 80 14 <20 bytes>
    expect(forge.util.bytesToHex(akiExt.value)).toBe(`30168014${caKeyId}`);
  });

  it('is signed by the CA', () => {
    expect(leafCert.checkIssued(caCert)).toBe(true);
    expect(leafCert.verify(caCert.publicKey)).toBe(true);
  });

  it('is not signed by another CA', () => {
    const otherCa = new X509Certificate(generateCertificateAuthority({ validityDays: 1, now: NOW }).certPem);
    expect(leafCert.verify(otherCa.publicKey)).toBe(false);
  });

  it('returns the private key that belongs to the certificate', () => {
    expect(leafCert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    expect(() => createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })).not.toThrow();
    expect(leafCert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(false);
  });

  it('is valid from five minutes before now until validityDays after now', () => {
    expect(new Date(leafCert.validFrom)).toEqual(new Date('2029-12-31T23:55:00.000Z'));
    expect(new Date(leafCert.validTo)).toEqual(new Date('2030-04-01T00:00:00.000Z'));
  });

  it('drops the milliseconds of now, which X.509 times cannot hold', () => {
    const now = new Date('2030-01-01T00:00:00.999Z');
    const cert = new X509Certificate(
      issueServingCertificate(ca, { ...serving, validityDays: 1, now }).certPem,
    );
    expect(new Date(cert.validTo)).toEqual(new Date('2030-01-02T00:00:00.000Z'));
  });

  describe('when the CA ends first', () => {
    const shortCa = generateCertificateAuthority({ validityDays: 30, now: NOW });
    const caEnd = NOW.getTime() + 30 * DAY_MS;

    it.each([
      { name: 'ends with the CA when asked to outlive it', days: 90, end: caEnd },
      { name: 'ends with the CA when asked to end at the same time', days: 30, end: caEnd },
      { name: 'keeps its own end when it ends before the CA', days: 29, end: NOW.getTime() + 29 * DAY_MS },
    ])('$name', ({ days, end }) => {
      const issued = issueServingCertificate(shortCa, { ...serving, validityDays: days, now: NOW });
      expect(new Date(new X509Certificate(issued.certPem).validTo).getTime()).toBe(end);
    });
  });

  it('gives the CA and every leaf a distinct, positive serial', () => {
    const leaves = Array.from({ length: 4 }, () =>
      issueServingCertificate(ca, { ...serving, validityDays: 1, now: NOW }),
    );
    const serials = [ca, leaf, ...leaves].map(
      (pair) => forge.pki.certificateFromPem(pair.certPem).serialNumber,
    );
    expect(new Set(serials).size).toBe(serials.length);
    for (const serial of serials) {
      const bytes = Buffer.from(serial, 'hex');
      expect(bytes[0]! < 0x80).toBe(true); // DER INTEGER sign bit clear: positive
      expect(bytes[0] === 0 && bytes[1]! < 0x80).toBe(false); // minimal: no redundant leading zero
      expect(bytes.length).toBeLessThanOrEqual(17);
    }
  });
});

describe('input validation', () => {
  const issue = (overrides: Record<string, unknown>): KeyPairPem =>
    issueServingCertificate(ca, { ...serving, validityDays: 1, now: NOW, ...overrides });

  it.each([
    ...['Webhook', '-webhook', 'webhook-', 'web_hook', 'web.hook', '', 'a'.repeat(64)].map((value) => ({
      field: 'service',
      value,
      accepted: "is not a DNS-1123 label: use 1-63 lowercase letters, digits or '-'",
    })),
    ...['Cloudbase', 'ns.', 'a'.repeat(64)].map((value) => ({
      field: 'namespace',
      value,
      accepted: 'is not a DNS-1123 label',
    })),
  ])('rejects $field $value, naming it and what a DNS-1123 label is', ({ field, value, accepted }) => {
    expect(() => issue({ [field]: value })).toThrow(`${field} ${JSON.stringify(value)} ${accepted}`);
    expect(() =>
      servingDnsNames(field === 'service' ? value : 'ok', field === 'namespace' ? value : 'ok'),
    ).toThrow(JSON.stringify(value));
  });

  it('rejects a Service and namespace whose CN would exceed 64 characters', () => {
    expect(() => issue({ service: 'a'.repeat(40), namespace: 'b'.repeat(40) })).toThrow(
      /common name "a{40}\.b{40}\.svc" has 85 characters, X\.509 allows at most 64/,
    );
  });

  it.each(['localhost', '1.2.3', '1.2.3.256', '01.2.3.4', '::g', 'fe80::1%eth0', ''])(
    'rejects IP %p, naming it and what is accepted',
    (ip) => {
      expect(() => issue({ ips: ['127.0.0.1', ip] })).toThrow(
        `IP address ${JSON.stringify(ip)} is not valid: use a literal IPv4 (10.0.0.1) or IPv6 (fd00::1) address`,
      );
    },
  );

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects validityDays %p for the CA and the leaf, naming it',
    (days) => {
      const message = `validityDays ${String(days)} is not valid: use a positive whole number of days`;
      expect(() => generateCertificateAuthority({ validityDays: days })).toThrow(message);
      expect(() => issue({ validityDays: days })).toThrow(message);
    },
  );

  it('rejects a validityDays that ends after the year 9999, which X.509 cannot encode', () => {
    expect(() => generateCertificateAuthority({ validityDays: 3_000_000, now: NOW })).toThrow(
      'validityDays 3000000 is too large: certificates cannot be valid past the year 9999',
    );
  });

  it.each(['', 'x'.repeat(65), 'über-ca', 'line\nbreak', 'a*b'])(
    'rejects CA commonName %p, naming it',
    (name) => {
      expect(() => generateCertificateAuthority({ commonName: name, validityDays: 1 })).toThrow(
        `commonName ${JSON.stringify(name)} is not valid: use 1-64 letters, digits, spaces`,
      );
    },
  );

  it('rejects an invalid now', () => {
    expect(() => generateCertificateAuthority({ validityDays: 1, now: new Date('soon') })).toThrow(
      'now Invalid Date is not a valid Date',
    );
  });

  it('reports which input was wrong as a CertificateInputError', () => {
    const error = (() => {
      try {
        issue({ ips: ['nope'] });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CertificateInputError);
    expect(error).toBeInstanceOf(Error);
    expect((error as CertificateInputError).field).toBe('ips');
  });

  it.each([
    {
      name: 'a leaf certificate',
      authority: (): KeyPairPem => leaf,
      message: 'CA certificate "CN=webhook.cloudbase-system.svc" is not a CA',
    },
    {
      name: 'a key from another certificate',
      authority: (): KeyPairPem => ({ certPem: ca.certPem, keyPem: leaf.keyPem }),
      message: 'CA private key does not belong to CA certificate "CN=cloudbase-webhook-ca"',
    },
    {
      name: 'something that is not PEM',
      authority: (): KeyPairPem => ({ certPem: 'not a certificate', keyPem: ca.keyPem }),
      message: 'CA certificate is not an RSA PEM that can be read',
    },
    {
      name: 'a key that is not PEM',
      authority: (): KeyPairPem => ({ certPem: ca.certPem, keyPem: 'not a key' }),
      message: 'CA private key is not an RSA PEM that can be read',
    },
  ])('refuses to issue from $name', ({ authority, message }) => {
    expect(() => issueServingCertificate(authority(), { ...serving, validityDays: 1, now: NOW })).toThrow(
      message,
    );
  });

  it('refuses to issue from a CA that has expired', () => {
    const later = new Date(NOW.getTime() + 366 * DAY_MS);
    expect(() => issueServingCertificate(ca, { ...serving, validityDays: 1, now: later })).toThrow(
      'CA certificate "CN=cloudbase-webhook-ca" expired at 2031-01-01T00:00:00.000Z; generate a new CA',
    );
  });
});
