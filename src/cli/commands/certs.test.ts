import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { certsCommand, DEFAULT_CA_DAYS, DEFAULT_DAYS, parseCertsArgs } from './certs.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface Captured {
  code: number;
  stdout: string[];
  stderr: string[];
}

async function runCerts(argv: string[]): Promise<Captured> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await certsCommand.run(argv, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout, stderr };
}

let root: string;
let out: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cloudbase-certs-cli-'));
  out = join(root, 'out');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('cloudbase certs', () => {
  it('describes itself', () => {
    expect(certsCommand.name).toBe('certs');
    expect(certsCommand.usage).toMatch(
      /^cloudbase certs --out DIR --service NAME --namespace NS \[--ip A\]\.\.\./,
    );
  });

  describe('when given an output directory, a Service and IPs', () => {
    it('writes a CA and a serving certificate signed by it, one stdout line per file', async () => {
      const started = Date.now();
      const result = await runCerts([
        '--out',
        out,
        '--service',
        'webhook',
        '--namespace',
        'ns',
        '--ip',
        '127.0.0.1',
        '--ip',
        '::1',
        '--days',
        '30',
      ]);

      expect(result).toEqual({
        code: 0,
        stdout: [
          `wrote ${join(out, 'ca.crt')}`,
          `wrote ${join(out, 'tls.key')}`,
          `wrote ${join(out, 'tls.crt')}`,
        ],
        stderr: [],
      });
      const ca = new X509Certificate(await readFile(join(out, 'ca.crt')));
      const leaf = new X509Certificate(await readFile(join(out, 'tls.crt')));
      expect(ca.ca).toBe(true);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.subject).toBe('CN=webhook.ns.svc');
      expect(leaf.subjectAltName).toBe(
        'DNS:webhook, DNS:webhook.ns, DNS:webhook.ns.svc, DNS:webhook.ns.svc.cluster.local, ' +
          'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
      );
      expect(new Date(leaf.validTo).getTime()).toBeGreaterThanOrEqual(started + 30 * DAY_MS - 1000);
      expect(new Date(leaf.validTo).getTime()).toBeLessThanOrEqual(Date.now() + 30 * DAY_MS);
      expect(new Date(ca.validTo).getTime()).toBeGreaterThanOrEqual(
        started + DEFAULT_CA_DAYS * DAY_MS - 1000,
      );
      const key = createPrivateKey(await readFile(join(out, 'tls.key')));
      expect(leaf.checkPrivateKey(key)).toBe(true);
      expect((await stat(join(out, 'tls.key'))).mode & 0o777).toBe(0o600);
    });
  });

  it('defaults to 90-day serving and 365-day CA certificates', () => {
    expect(parseCertsArgs(['--out', 'o', '--service', 's', '--namespace', 'n'])).toEqual({
      out: 'o',
      service: 's',
      namespace: 'n',
      ips: [],
      days: DEFAULT_DAYS,
      caDays: DEFAULT_CA_DAYS,
    });
    expect([DEFAULT_DAYS, DEFAULT_CA_DAYS]).toEqual([90, 365]);
  });

  it('accepts --flag=value and repeated --ip', () => {
    expect(
      parseCertsArgs([
        '--out=o',
        '--service=s',
        '--namespace=n',
        '--ip=10.0.0.1',
        '--ip',
        'fd00::1',
        '--ca-days=10',
      ]),
    ).toMatchObject({ ips: ['10.0.0.1', 'fd00::1'], caDays: 10 });
  });

  it('warns when the serving certificate is asked to outlive the CA', async () => {
    const result = await runCerts([
      '--out',
      out,
      '--service',
      's',
      '--namespace',
      'n',
      '--days',
      '20',
      '--ca-days',
      '10',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([
      'cloudbase certs: --days 20 exceeds --ca-days 10; tls.crt expires with the CA',
    ]);
  });

  it('prints the usage for --help and exits 0', async () => {
    expect(await runCerts(['--help'])).toEqual({
      code: 0,
      stdout: [`usage: ${certsCommand.usage}`],
      stderr: [],
    });
  });

  const required = ['--service', 's', '--namespace', 'n'];
  it.each([
    { name: 'no flags', argv: [], message: '--out is required' },
    { name: 'no --service', argv: ['--namespace', 'n'], message: '--service is required' },
    { name: 'no --namespace', argv: ['--service', 's'], message: '--namespace is required' },
    {
      name: 'an empty --service',
      argv: ['--service', '', '--namespace', 'n'],
      message: '--service is required',
    },
    { name: 'an unknown flag', argv: [...required, '--bogus'], message: "Unknown option '--bogus'" },
    { name: 'a positional argument', argv: [...required, 'extra'], message: "Unexpected argument 'extra'" },
    {
      name: '--days without a value',
      argv: [...required, '--days'],
      message: "Option '--days <value>' argument missing",
    },
    {
      name: '--days 0',
      argv: [...required, '--days', '0'],
      message: '--days must be a positive whole number of days, got "0"',
    },
    {
      name: '--days abc',
      argv: [...required, '--days', 'abc'],
      message: '--days must be a positive whole number of days, got "abc"',
    },
    {
      name: '--ca-days=1.5',
      argv: [...required, '--ca-days=1.5'],
      message: '--ca-days must be a positive whole number of days, got "1.5"',
    },
    {
      name: 'a Service name that is not a DNS label',
      argv: ['--service', 'Bad_Name', '--namespace', 'n'],
      message: '--service: service "Bad_Name" is not a DNS-1123 label',
    },
    {
      name: 'a namespace that is not a DNS label',
      argv: ['--service', 's', '--namespace', 'NS'],
      message: '--namespace: namespace "NS" is not a DNS-1123 label',
    },
    {
      name: 'an --ip that is not an address',
      argv: [...required, '--ip', 'nope'],
      message: '--ip: IP address "nope" is not valid',
    },
    {
      name: 'a --ca-days past the year 9999',
      argv: [...required, '--ca-days', '9999999'],
      message: '--ca-days: validityDays 9999999 is too large',
    },
  ])('when given $name, names the problem and the usage on stderr and exits 2', async ({ argv, message }) => {
    const withOut = argv.length === 0 ? argv : ['--out', out, ...argv];
    const result = await runCerts(withOut);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toHaveLength(2);
    expect(result.stderr[0]).toContain(`cloudbase certs: ${message}`);
    expect(result.stderr[1]).toBe(`usage: ${certsCommand.usage}`);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('exits 1 naming the directory when it cannot write there', async () => {
    await writeFile(out, 'a file, not a directory');
    const result = await runCerts(['--out', out, ...required]);
    expect(result.code).toBe(1);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toEqual([
      expect.stringContaining(`cloudbase certs: cannot create certificate directory ${out}`),
    ]);
  });
});
