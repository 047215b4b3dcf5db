import { X509Certificate } from 'node:crypto';

import { canonicalIp } from './ip.js';
import { messageOf } from './message.js';

/** What a renewal decision needs to know about a certificate. */
export interface CertificateDescription {
  notBefore: Date;
  notAfter: Date;
  /** Upper-case hex, as node:crypto prints it. */
  serialNumber: string;
  dnsNames: string[];
  /** IP SANs in canonical form (IPv6 as RFC 5952, e.g. `::1`), see {@link canonicalIp}. */
  ipAddresses: string[];
  isCA: boolean;
}

/**
 * Reads the fields of a PEM certificate that decide whether it must be renewed. Parsed with node:crypto
 * (OpenSSL), the same parser the TLS stack uses, so it sees what a client will see. Throws if `pem` is not a
 * certificate.
 */
export function describeCertificate(pem: string): CertificateDescription {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (error) {
    throw new Error(`cannot describe certificate: not a PEM X.509 certificate (${messageOf(error)})`, {
      cause: error,
    });
  }
  const sans = parseSubjectAltName(cert.subjectAltName);
  return {
    notBefore: parseOpenSslDate('notBefore', cert.validFrom),
    notAfter: parseOpenSslDate('notAfter', cert.validTo),
    serialNumber: cert.serialNumber,
    dnsNames: sans.filter((san) => san.type === 'DNS').map((san) => san.value),
    ipAddresses: sans.filter((san) => san.type === 'IP Address').map((san) => canonicalIp(san.value)),
    isCA: cert.ca,
  };
}

interface SubjectAltName {
  type: string;
  value: string;
}

/**
 * Splits node's `subjectAltName` text ("DNS:a, IP Address:10.0.0.1"). Since Node 17 a value that contains a
 * separator is printed as a JSON string literal, so those are decoded rather than split.
 * https://nodejs.org/api/crypto.html#x509subjectaltname
 */
function parseSubjectAltName(text: string | undefined): SubjectAltName[] {
  if (text === undefined || text === '') return [];
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  const sans: SubjectAltName[] = [];
  for (const match of text.matchAll(entry)) {
    const raw = match[2]!;
    sans.push({ type: match[1]!, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return sans;
}

function parseOpenSslDate(field: string, text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new Error(`cannot describe certificate: ${field} ${JSON.stringify(text)} is not a date`);
  return date;
}
