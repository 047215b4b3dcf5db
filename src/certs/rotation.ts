import { X509Certificate } from 'node:crypto';
import type { KeyPairPem } from './key-pair.js';

/**
 * The pure decisions of self-managed webhook certificates: when to renew, what the webhook configurations'
 * caBundle must hold, and in which order, so that no admission request fails while certificates rotate.
 * The I/O around them (Secrets, webhook configurations) is in secrets.ts and ca-bundle.ts.
 */

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/**
 * Renew when less than a third of the lifetime is left, as cert-manager does by default: a 90-day certificate
 * is renewed at 60 days, leaving a month to notice a renewal that fails.
 * https://cert-manager.io/docs/usage/certificate/#reissuance-triggered-by-expiry-renewal
 */
export function needsRenewal(validity: Validity, now: Date): boolean {
  const lifetime = validity.notAfter.getTime() - validity.notBefore.getTime();
  return validity.notAfter.getTime() - now.getTime() < lifetime / 3;
}

/** What the Secrets hold. */
export interface StoredCertificates {
  /** The CA that signs serving certificates, and every CA still trusted (the current one among them). */
  authority?: { pair: KeyPairPem; trusted: readonly string[] };
  serving?: KeyPairPem;
}

export interface RotationInput {
  stored: StoredCertificates;
  /** Each webhook configuration's caBundle, split into PEM certificates. */
  webhookBundles: readonly (readonly string[])[];
  /** Since when every webhook configuration has trusted the current CA, as far as this leader has seen. */
  trustedSince: Date | undefined;
  /** The names the serving certificate must carry. */
  dnsNames: readonly string[];
  now: Date;
  /** How long API servers may take to see a caBundle change (they watch the configurations). */
  propagationMs: number;
}

/** One step at a time: the caller does it, reads the state again and asks for the next. */
export type RotationStep =
  | { step: 'issue-authority'; reason: string; keep: string[] }
  | { step: 'trust'; reason: string; bundle: string[] }
  | { step: 'issue-serving'; reason: string }
  | { step: 'wait'; reason: string }
  | { step: 'none' };

/**
 * The next step of rotation. The order is what keeps admission working: a new CA is added to the bundle
 * next to the old one; serving certificates signed by it are issued only once every webhook configuration
 * has trusted it for `propagationMs`; an old CA leaves the bundle only when it has expired, long after every
 * replica serves the new certificate (replicas reload within seconds, and a CA is renewed with a third of
 * its lifetime left).
 */
export function planRotation(input: RotationInput): RotationStep {
  const { stored, now } = input;
  const ca = parse(stored.authority?.pair.certPem);
  const stillValid = (pem: string): boolean => {
    const cert = parse(pem);
    return cert !== undefined && cert.ca && validityOf(cert).notAfter > now;
  };
  const trusted = (stored.authority?.trusted ?? []).filter(stillValid);

  if (ca === undefined || !ca.ca) {
    return {
      step: 'issue-authority',
      reason: stored.authority === undefined ? 'no CA yet' : 'the stored CA is not a readable CA certificate',
      keep: trusted,
    };
  }
  if (needsRenewal(validityOf(ca), now)) {
    return {
      step: 'issue-authority',
      reason: `the CA expires at ${validityOf(ca).notAfter.toISOString()}, less than a third of its lifetime left`,
      keep: trusted,
    };
  }

  const caPem = stored.authority!.pair.certPem;
  const bundle = [caPem, ...trusted.filter((pem) => !sameCertificate(pem, caPem))];
  const storedTrusted = stored.authority!.trusted;
  if (
    input.webhookBundles.length === 0 ||
    !sameSet(storedTrusted, bundle) ||
    input.webhookBundles.some((each) => !sameSet(each, bundle))
  ) {
    return {
      step: 'trust',
      reason:
        input.webhookBundles.length === 0
          ? 'no webhook configuration found'
          : 'the caBundle differs from the trusted CAs (a new CA, or an expired one to drop)',
      bundle,
    };
  }

  const renewal = servingRenewalReason(stored.serving, ca, input.dnsNames, now);
  if (renewal === undefined) return { step: 'none' };
  // A working certificate is replaced only once the API servers trust its successor's CA; when nothing
  // works (first install, unreadable Secret) there is nothing to keep and no reason to wait.
  const servingNow = parse(stored.serving?.certPem);
  const somethingWorks =
    servingNow !== undefined && trustedByAll(stored.serving!.certPem, input.webhookBundles, now);
  if (somethingWorks) {
    const readyAt =
      input.trustedSince === undefined ? undefined : input.trustedSince.getTime() + input.propagationMs;
    if (readyAt === undefined || now.getTime() < readyAt) {
      return {
        step: 'wait',
        reason: `${renewal}; the CA must be trusted by every webhook configuration for ${input.propagationMs} ms first`,
      };
    }
  }
  return { step: 'issue-serving', reason: renewal };
}

/** Why the serving certificate must be issued again, or undefined when it is fine. */
function servingRenewalReason(
  serving: KeyPairPem | undefined,
  ca: X509Certificate,
  dnsNames: readonly string[],
  now: Date,
): string | undefined {
  if (serving === undefined) return 'no serving certificate yet';
  const cert = parse(serving.certPem);
  if (cert === undefined) return 'the stored serving certificate is not readable';
  if (!issuedBy(cert, ca)) return 'the serving certificate is not signed by the current CA';
  if (!sameSet(dnsNamesOf(cert), dnsNames)) return 'the serving certificate names other hosts';
  const validity = validityOf(cert);
  if (needsRenewal(validity, now)) {
    return `the serving certificate expires at ${validity.notAfter.toISOString()}, less than a third of its lifetime left`;
  }
  return undefined;
}

/**
 * Whether a client that trusts any one of the webhook configurations' bundles accepts this serving
 * certificate now: what a replica's readiness waits for. No configuration at all trusts nothing.
 */
export function trustedByAll(
  servingPem: string,
  bundles: readonly (readonly string[])[],
  now: Date,
): boolean {
  const serving = parse(servingPem);
  if (serving === undefined || bundles.length === 0 || !within(validityOf(serving), now)) return false;
  return bundles.every((bundle) =>
    bundle.some((pem) => {
      const ca = parse(pem);
      return ca !== undefined && within(validityOf(ca), now) && issuedBy(serving, ca);
    }),
  );
}

/** Whether every webhook's caBundle holds this CA (compared by certificate, not PEM text); none holds nothing. */
export function everyBundleHolds(bundles: readonly (readonly string[])[], caPem: string): boolean {
  return bundles.length > 0 && bundles.every((bundle) => bundle.some((pem) => sameCertificate(pem, caPem)));
}

/** Splits a PEM bundle (a caBundle, a CA file) into its certificates. */
export function splitPemBundle(bundle: string): string[] {
  return (
    bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((pem) => `${pem}\n`) ??
    []
  );
}

function parse(pem: string | undefined): X509Certificate | undefined {
  if (pem === undefined) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function issuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

function validityOf(cert: X509Certificate): Validity {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

function within(validity: Validity, now: Date): boolean {
  return validity.notBefore <= now && now < validity.notAfter;
}

function dnsNamesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((san) => san.startsWith('DNS:'))
    .map((san) => san.slice('DNS:'.length));
}

function sameCertificate(a: string, b: string): boolean {
  return fingerprint(a) === fingerprint(b);
}

function fingerprint(pem: string): string {
  return parse(pem)?.fingerprint256 ?? pem.trim();
}

/** The same certificates (or names), in any order; certificates compare by fingerprint, not by PEM text. */
function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const key = (value: string): string => (value.includes('BEGIN CERTIFICATE') ? fingerprint(value) : value);
  const left = new Set(a.map(key));
  const right = new Set(b.map(key));
  return left.size === right.size && [...left].every((value) => right.has(value));
}
