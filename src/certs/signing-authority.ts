import forge from 'node-forge';

import { CertificateInputError } from './errors.js';
import type { KeyPairPem } from './key-pair.js';
import { messageOf } from './message.js';

/** A CA parsed and checked, ready to sign leaf certificates. */
export interface SigningAuthority {
  cert: forge.pki.Certificate;
  privateKey: forge.pki.rsa.PrivateKey;
  /** The CA's key identifier (forge bytes), copied into each leaf's authorityKeyIdentifier. */
  keyIdentifier: string;
}

/**
 * Parses a CA key pair and checks it can sign at `now`: the certificate is a CA (basicConstraints cA), the key
 * belongs to it, and it has not expired. Catching these here turns a leaf that no client would accept into an
 * error that says why.
 */
export function loadSigningAuthority(ca: KeyPairPem, now: Date): SigningAuthority {
  const cert = parsePem('CA certificate', () => forge.pki.certificateFromPem(ca.certPem));
  const privateKey = parsePem('CA private key', () => forge.pki.privateKeyFromPem(ca.keyPem));
  const subject = describeSubject(cert);
  if (extension(cert, 'basicConstraints')?.cA !== true) {
    throw new CertificateInputError(
      'ca',
      `CA certificate ${subject} is not a CA: basicConstraints cA is not set`,
    );
  }
  const publicKey = cert.publicKey as forge.pki.rsa.PublicKey;
  if (!publicKey.n.equals(privateKey.n) || !publicKey.e.equals(privateKey.e)) {
    throw new CertificateInputError('ca', `CA private key does not belong to CA certificate ${subject}`);
  }
  if (cert.validity.notAfter.getTime() <= now.getTime()) {
    throw new CertificateInputError(
      'ca',
      `CA certificate ${subject} expired at ${cert.validity.notAfter.toISOString()}; generate a new CA`,
    );
  }
  return { cert, privateKey, keyIdentifier: keyIdentifierOf(cert) };
}

function parsePem<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new CertificateInputError('ca', `${what} is not an RSA PEM that can be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** The CA's own subjectKeyIdentifier if it has one (RFC 5280 §4.2.1.1 wants the leaf's AKI to match it). */
function keyIdentifierOf(cert: forge.pki.Certificate): string {
  const ski = extension(cert, 'subjectKeyIdentifier')?.subjectKeyIdentifier;
  if (typeof ski === 'string') return forge.util.hexToBytes(ski);
  return cert.generateSubjectKeyIdentifier().getBytes();
}

function describeSubject(cert: forge.pki.Certificate): string {
  const cn = cert.subject.getField('CN') as { value?: unknown } | null;
  return typeof cn?.value === 'string' ? `"CN=${cn.value}"` : '(no CN)';
}

/** A parsed extension's fields (forge types them as `{}`), or undefined when the certificate lacks it. */
function extension(cert: forge.pki.Certificate, name: string): Record<string, unknown> | undefined {
  const ext: unknown = cert.getExtension(name);
  return typeof ext === 'object' && ext !== null ? (ext as Record<string, unknown>) : undefined;
}
