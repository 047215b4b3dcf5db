import { parseArgs } from 'node:util';

import {
  generateCertificateAuthority,
  issueServingCertificate,
  type KeyPairPem,
} from '../../certs/authority.js';
import { CertificateInputError, type CertificateInputField } from '../../certs/errors.js';
import { writeCertificateFiles } from '../../certs/files.js';
import { messageOf } from '../../certs/message.js';
import { UsageError, type Command, type CommandIO } from '../command.js';

/** Leaf lifetime unless `--days` says otherwise; short, since `cloudbase certs` is cheap to re-run. */
export const DEFAULT_DAYS = 90;
/** CA lifetime unless `--ca-days` says otherwise. */
export const DEFAULT_CA_DAYS = 365;

const USAGE =
  'cloudbase certs --out DIR --service NAME --namespace NS [--ip A]... ' +
  `[--days N (default ${DEFAULT_DAYS})] [--ca-days N (default ${DEFAULT_CA_DAYS})]`;

/** What `cloudbase certs` was asked to do, after its flags were checked. */
export interface CertsOptions {
  out: string;
  service: string;
  namespace: string;
  ips: string[];
  days: number;
  caDays: number;
}

/**
 * `cloudbase certs`: generates a fresh CA and a serving certificate for a webhook Service and writes
 * `ca.crt`, `tls.crt` and `tls.key` into `--out`. For development clusters and tests; in a cluster the
 * controller manages the certificates itself. Resolves to 0, to 2 for a wrong or missing flag (after the problem
 * and the usage on stderr), or to 1 for any other failure (after its message on stderr).
 */
export const certsCommand: Command = {
  name: 'certs',
  summary: 'Generate a CA and a webhook serving certificate into a directory',
  usage: USAGE,
  async run(argv: string[], io: CommandIO): Promise<number> {
    try {
      const options = parseCertsArgs(argv);
      if (options === 'help') {
        io.stdout(`usage: ${USAGE}`);
        return 0;
      }
      return await generateInto(options, io);
    } catch (error) {
      io.stderr(`cloudbase certs: ${messageOf(error)}`);
      if (!(error instanceof UsageError)) return 1;
      io.stderr(`usage: ${USAGE}`);
      return 2;
    }
  },
};

/**
 * Parses and checks `cloudbase certs` flags; returns `'help'` for `--help`. Throws a {@link UsageError} naming
 * the flag for an unknown, missing or malformed one.
 */
export function parseCertsArgs(argv: string[]): CertsOptions | 'help' {
  const { values } = parseStrict(argv);
  if (values.help === true) return 'help';
  return {
    out: requiredFlag('out', values.out),
    service: requiredFlag('service', values.service),
    namespace: requiredFlag('namespace', values.namespace),
    ips: values.ip ?? [],
    days: dayCount('days', values.days, DEFAULT_DAYS),
    caDays: dayCount('ca-days', values['ca-days'], DEFAULT_CA_DAYS),
  };
}

function parseStrict(argv: string[]): ReturnType<typeof parseCertsFlags> {
  try {
    return parseCertsFlags(argv);
  } catch (error) {
    // parseArgs explains at length how to pass positionals; its first sentence names the flag.
    throw new UsageError(messageOf(error).split(/\.\s/)[0], { cause: error });
  }
}

function parseCertsFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: 'string' },
      service: { type: 'string' },
      namespace: { type: 'string' },
      ip: { type: 'string', multiple: true },
      days: { type: 'string' },
      'ca-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function requiredFlag(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

function dayCount(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new UsageError(`--${flag} must be a positive whole number of days, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

async function generateInto(options: CertsOptions, io: CommandIO): Promise<number> {
  const ca = asUsageError({ validityDays: '--ca-days' }, () =>
    generateCertificateAuthority({ validityDays: options.caDays }),
  );
  const serving: KeyPairPem = asUsageError(
    { service: '--service', namespace: '--namespace', ips: '--ip', validityDays: '--days' },
    () =>
      issueServingCertificate(ca, {
        service: options.service,
        namespace: options.namespace,
        ips: options.ips,
        validityDays: options.days,
      }),
  );
  if (options.days > options.caDays) {
    io.stderr(
      `cloudbase certs: --days ${options.days} exceeds --ca-days ${options.caDays}; tls.crt expires with the CA`,
    );
  }
  const written = await writeCertificateFiles(options.out, {
    caCertPem: ca.certPem,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
  });
  for (const path of written) io.stdout(`wrote ${path}`);
  return 0;
}

/** Runs `build`, turning a rejected input into a {@link UsageError} that names the flag it came from. */
function asUsageError<T>(flags: Partial<Record<CertificateInputField, string>>, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof CertificateInputError)) throw error;
    const flag = flags[error.field];
    if (flag === undefined) throw error;
    throw new UsageError(`${flag}: ${error.message}`, { cause: error });
  }
}
