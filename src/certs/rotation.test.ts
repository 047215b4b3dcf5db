import { describe, expect, it } from '@jest/globals';
import { generateCertificateAuthority, issueServingCertificate, servingDnsNames } from './authority.js';
import {
  everyBundleHolds,
  needsRenewal,
  planRotation,
  splitPemBundle,
  trustedByAll,
  type RotationInput,
  type StoredCertificates,
} from './rotation.js';

const T0 = new Date('2026-11-26T12:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const DAY = 86_400_000;

describe('needsRenewal: less than a third of the lifetime left', () => {
  // 90 days from T0: a third is 30 days, so renewal starts at day 60.
  const validity = { notBefore: T0, notAfter: at(90 * DAY) };

  it.each([
    ['at issue', at(0), false],
    ['1 ms before two thirds', at(60 * DAY - 1), false],
    ['exactly a third left', at(60 * DAY), false],
    ['1 ms past two thirds', at(60 * DAY + 1), true],
    ['at expiry', at(90 * DAY), true],
    ['after expiry', at(91 * DAY), true],
  ])('%s: %s', (_, now, expected) => {
    expect(needsRenewal(validity, now)).toBe(expected);
  });

  it('a certificate that is not valid yet is not renewed (its whole lifetime is ahead)', () => {
    expect(needsRenewal(validity, at(-DAY))).toBe(false);
  });
});

describe('planRotation', () => {
  const dnsNames = servingDnsNames('cloudbase-webhook', 'cloudbase-system');
  const ca1 = generateCertificateAuthority({ validityDays: 365, now: T0 });
  const leaf1 = issueServingCertificate(ca1, {
    service: 'cloudbase-webhook',
    namespace: 'cloudbase-system',
    validityDays: 90,
    now: T0,
  });
  const input = (stored: StoredCertificates, overrides: Partial<RotationInput> = {}): RotationInput => ({
    stored,
    webhookBundles: [[ca1.certPem], [ca1.certPem]],
    trustedSince: T0,
    dnsNames,
    now: at(DAY),
    propagationMs: 10_000,
    ...overrides,
  });
  const settled: StoredCertificates = { authority: { pair: ca1, trusted: [ca1.certPem] }, serving: leaf1 };

  it('first install: CA, then trust, then serving certificate without waiting', () => {
    expect(planRotation(input({}, { webhookBundles: [[], []] }))).toMatchObject({
      step: 'issue-authority',
      reason: 'no CA yet',
      keep: [],
    });
    const withCa = { authority: { pair: ca1, trusted: [ca1.certPem] } };
    expect(planRotation(input(withCa, { webhookBundles: [[], []] }))).toEqual({
      step: 'trust',
      reason: 'the caBundle differs from the trusted CAs (a new CA, or an expired one to drop)',
      bundle: [ca1.certPem],
    });
    expect(planRotation(input(withCa, { trustedSince: at(DAY) }))).toEqual({
      step: 'issue-serving',
      reason: 'no serving certificate yet',
    });
  });

  it('nothing to do when the CA, the bundles and the serving certificate agree', () => {
    expect(planRotation(input(settled))).toEqual({ step: 'none' });
  });

  it('bundles compare by certificate, not by PEM text or order', () => {
    const reflowed = `\n${ca1.certPem.replace(/\n/g, '\r\n')}`;
    expect(planRotation(input(settled, { webhookBundles: [[reflowed], [ca1.certPem]] }))).toEqual({
      step: 'none',
    });
  });

  it('no webhook configuration: trust (the caller reports it cannot write one)', () => {
    expect(planRotation(input(settled, { webhookBundles: [] }))).toMatchObject({
      step: 'trust',
      reason: 'no webhook configuration found',
    });
  });

  it('a caBundle someone else changed is written back', () => {
    const other = generateCertificateAuthority({ validityDays: 10, now: T0 });
    expect(planRotation(input(settled, { webhookBundles: [[ca1.certPem], [other.certPem]] }))).toMatchObject({
      step: 'trust',
      bundle: [ca1.certPem],
    });
  });

  it('renews the serving certificate at two thirds of its life, issuing right away when trust is settled', () => {
    // Issued backdated by 5 minutes (clock skew), so two thirds fall a little before day 60.
    expect(planRotation(input(settled, { now: at(59 * DAY) }))).toEqual({ step: 'none' });
    expect(planRotation(input(settled, { now: at(60 * DAY) }))).toMatchObject({
      step: 'issue-serving',
      reason: expect.stringContaining('less than a third of its lifetime left') as unknown as string,
    });
  });

  it('reissues a serving certificate for other names, or one the CA did not sign', () => {
    const otherNames = issueServingCertificate(ca1, {
      service: 'other',
      namespace: 'cloudbase-system',
      validityDays: 90,
      now: T0,
    });
    expect(planRotation(input({ ...settled, serving: otherNames }))).toMatchObject({
      step: 'issue-serving',
      reason: 'the serving certificate names other hosts',
    });
    expect(planRotation(input({ ...settled, serving: { certPem: 'garbage', keyPem: 'x' } }))).toMatchObject({
      step: 'issue-serving',
      reason: 'the stored serving certificate is not readable',
    });
  });

  it('a whole CA rotation: new CA trusted beside the old, wait, new serving certificate, old CA dropped at expiry', () => {
    const renewAt = at(244 * DAY); // 365 days: renewal after two thirds, day 243.3
    const first = planRotation(input(settled, { now: renewAt }));
    expect(first).toMatchObject({ step: 'issue-authority', keep: [ca1.certPem] });

    const ca2 = generateCertificateAuthority({ validityDays: 365, now: renewAt });
    const rotated: StoredCertificates = {
      authority: { pair: ca2, trusted: [ca2.certPem, ca1.certPem] },
      serving: leaf1Renewed(ca1, renewAt),
    };
    // The bundle must hold both CAs before anything is signed by the new one.
    expect(planRotation(input(rotated, { now: renewAt, trustedSince: undefined }))).toEqual({
      step: 'trust',
      reason: 'the caBundle differs from the trusted CAs (a new CA, or an expired one to drop)',
      bundle: [ca2.certPem, ca1.certPem],
    });
    const both = [ca2.certPem, ca1.certPem];
    // Trusted, but not for long enough: the old serving certificate (still valid, still trusted) stays.
    expect(
      planRotation(input(rotated, { now: renewAt, webhookBundles: [both, both], trustedSince: renewAt })),
    ).toMatchObject({ step: 'wait' });
    expect(
      planRotation(
        input(rotated, { now: at(244 * DAY + 10_000), webhookBundles: [both, both], trustedSince: renewAt }),
      ),
    ).toEqual({ step: 'issue-serving', reason: 'the serving certificate is not signed by the current CA' });

    // Until the old CA expires it stays in the bundle; after, it is dropped.
    const leaf2 = issueServingCertificate(ca2, {
      service: 'cloudbase-webhook',
      namespace: 'cloudbase-system',
      validityDays: 90,
      now: renewAt,
    });
    const done: StoredCertificates = { ...rotated, serving: leaf2 };
    expect(planRotation(input(done, { now: at(300 * DAY), webhookBundles: [both, both] }))).toEqual({
      step: 'none',
    });
    expect(planRotation(input(done, { now: at(366 * DAY), webhookBundles: [both, both] }))).toEqual({
      step: 'trust',
      reason: 'the caBundle differs from the trusted CAs (a new CA, or an expired one to drop)',
      bundle: [ca2.certPem],
    });
  });

  it('an unreadable CA is replaced, keeping the still valid trusted CAs', () => {
    expect(
      planRotation(
        input({ authority: { pair: { certPem: 'junk', keyPem: 'junk' }, trusted: [ca1.certPem] } }),
      ),
    ).toEqual({
      step: 'issue-authority',
      reason: 'the stored CA is not a readable CA certificate',
      keep: [ca1.certPem],
    });
  });

  function leaf1Renewed(ca: typeof ca1, now: Date): typeof leaf1 {
    return issueServingCertificate(ca, {
      service: 'cloudbase-webhook',
      namespace: 'cloudbase-system',
      validityDays: 90,
      now,
    });
  }
});

describe('trustedByAll', () => {
  const ca = generateCertificateAuthority({ validityDays: 30, now: T0 });
  const other = generateCertificateAuthority({ validityDays: 30, now: T0 });
  const leaf = issueServingCertificate(ca, { service: 's', namespace: 'n', validityDays: 10, now: T0 });

  it('needs every bundle to hold the signing CA', () => {
    expect(trustedByAll(leaf.certPem, [[ca.certPem], [other.certPem, ca.certPem]], at(DAY))).toBe(true);
    expect(trustedByAll(leaf.certPem, [[ca.certPem], [other.certPem]], at(DAY))).toBe(false);
  });

  it('is false with no configuration, an expired certificate, or no certificate', () => {
    expect(trustedByAll(leaf.certPem, [], at(DAY))).toBe(false);
    expect(trustedByAll(leaf.certPem, [[ca.certPem]], at(11 * DAY))).toBe(false);
    expect(trustedByAll('not a certificate', [[ca.certPem]], at(DAY))).toBe(false);
  });
});

describe('everyBundleHolds', () => {
  const a = generateCertificateAuthority({ validityDays: 1, now: T0 });
  const b = generateCertificateAuthority({ validityDays: 1, now: T0 });

  it('needs the CA in every bundle, compared as a certificate; no bundle holds nothing', () => {
    const reflowed = a.certPem.replace(/\n/g, '\r\n');
    expect(everyBundleHolds([[reflowed], [b.certPem, a.certPem]], a.certPem)).toBe(true);
    expect(everyBundleHolds([[a.certPem], [b.certPem]], a.certPem)).toBe(false);
    expect(everyBundleHolds([], a.certPem)).toBe(false);
  });
});

describe('splitPemBundle', () => {
  const a = generateCertificateAuthority({ validityDays: 1, now: T0 });
  const b = generateCertificateAuthority({ validityDays: 1, now: T0 });

  it('splits a bundle into certificates and ignores text around them', () => {
    expect(splitPemBundle(`# comment\n${a.certPem}\n\n${b.certPem}trailing`)).toEqual([
      a.certPem.trim() + '\n',
      b.certPem.trim() + '\n',
    ]);
    expect(splitPemBundle('')).toEqual([]);
  });
});
