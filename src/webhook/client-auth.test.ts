import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificateAuthority, issueServingCertificate } from '../certs/authority.js';
import { readClientCa } from './client-auth.js';

describe('readClientCa', () => {
  const ca = generateCertificateAuthority({ commonName: 'webhook-client-ca', validityDays: 1 });
  const other = generateCertificateAuthority({ commonName: 'another-ca', validityDays: 1 });
  const leaf = issueServingCertificate(ca, {
    service: 'cloudbase-webhook',
    namespace: 'cloudbase-system',
    validityDays: 1,
  });
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cloudbase-read-client-ca-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const fileWith = async (name: string, content: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, content);
    return file;
  };

  it.each([
    ['one CA', ca.certPem],
    ['a bundle of two CAs', `${ca.certPem}${other.certPem}`],
  ])('reads %s', async (name, content) => {
    expect(readClientCa(await fileWith(name, content))).toBe(content);
  });

  it.each([
    ['no certificate', 'hello', /holds no PEM certificate/],
    ['a serving certificate', leaf.certPem, /CN=cloudbase-webhook.cloudbase-system.svc is not a CA/],
    [
      'a truncated certificate',
      ca.certPem
        .split('\n')
        .filter((_, line) => line !== 3)
        .join('\n'),
      /does not parse/,
    ],
  ])('refuses a file with %s, naming it', async (name, content, message) => {
    const file = await fileWith(name, content);
    expect(() => readClientCa(file)).toThrow(message);
    expect(() => readClientCa(file)).toThrow(file);
  });

  it('names a missing file', () => {
    expect(() => readClientCa(join(dir, 'missing.crt'))).toThrow(/missing\.crt/);
  });
});
