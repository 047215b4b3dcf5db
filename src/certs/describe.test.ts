import { describe, expect, it } from '@jest/globals';
import forge from 'node-forge';

import { generateCertificateAuthority, issueServingCertificate } from './authority.js';
import { describeCertificate } from './describe.js';
import { generateRsaKeyPair } from './keys.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const ca = generateCertificateAuthority({ validityDays: 365, now: NOW });
const leaf = issueServingCertificate(ca, {
  service: 'webhook',
  namespace: 'ns',
  ips: ['127.0.0.1', '0:0:0:0:0:0:0:1', 'FD00::A:B'],
  validityDays: 90,
  now: NOW,
});

/** A self-signed certificate with arbitrary SANs, for shapes the issuer itself never produces. */
function certificateWithAltNames(altNames: object[]): string {
  const keys = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = NOW;
  cert.validity.notAfter = new Date(NOW.getTime() + 1000);
  cert.setSubject([{ shortName: 'CN', value: 'odd' }]);
  cert.setIssuer([{ shortName: 'CN', value: 'odd' }]);
  cert.setExtensions([{ name: 'subjectAltName', altNames }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

describe('describeCertificate', () => {
  it('describes a serving certificate: validity, serial, SANs (IPs canonical), not a CA', () => {
    expect(describeCertificate(leaf.certPem)).toEqual({
      notBefore: new Date('2029-12-31T23:55:00.000Z'),
      notAfter: new Date('2030-04-01T00:00:00.000Z'),
      serialNumber: forge.pki.certificateFromPem(leaf.certPem).serialNumber.toUpperCase().replace(/^00/, ''),
      dnsNames: ['webhook', 'webhook.ns', 'webhook.ns.svc', 'webhook.ns.svc.cluster.local'],
      ipAddresses: ['127.0.0.1', '::1', 'fd00::a:b'],
      isCA: false,
    });
  });

  it('describes a CA: no SANs, isCA', () => {
    expect(describeCertificate(ca.certPem)).toMatchObject({
      notAfter: new Date('2031-01-01T00:00:00.000Z'),
      dnsNames: [],
      ipAddresses: [],
      isCA: true,
    });
  });

  it('reads a SAN that node prints quoted because it contains a separator', () => {
    const pem = certificateWithAltNames([
      { type: 2, value: 'a, DNS:b' },
      { type: 2, value: 'plain' },
    ]);
    expect(describeCertificate(pem).dnsNames).toEqual(['a, DNS:b', 'plain']);
  });

  it.each(['', 'not a certificate', ca.keyPem])('rejects %p as not a certificate', (pem) => {
    expect(() => describeCertificate(pem)).toThrow(
      'cannot describe certificate: not a PEM X.509 certificate',
    );
  });
});
