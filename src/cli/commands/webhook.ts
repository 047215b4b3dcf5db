import { parseArgs } from 'node:util';
import { RUNTIMES, type Runtime } from '../../contract/function-spec.js';
import { defaultRuntimeImages, type InjectionConfig } from '../../admission/inject/config.js';
import { createLogger } from '../../log.js';
import { startWebhookServer } from '../../webhook/server.js';
import { integerFlag, shutdownSignal, UsageError, type Command } from '../command.js';

const usage =
  'cloudbase webhook --cert-dir DIR [--port 8443] [--host 0.0.0.0] [--client-ca FILE] [--runtime-image RUNTIME=IMAGE]... ' +
  '[--shutdown-delay-seconds 0]';

/**
 * `--client-ca FILE`, for `cloudbase webhook` and `cloudbase controller` (which serves the webhooks too): the CA
 * of the API server's webhook client certificate. Off when absent.
 */
export const CLIENT_CA_OPTION = { 'client-ca': { type: 'string' } } as const;

/** The `--client-ca` value: a path, or undefined for no client authentication; an empty one is a UsageError. */
export function clientCaFlag(value: string | undefined): string | undefined {
  if (value === '')
    throw new UsageError('--client-ca needs a file: the PEM CA of the API server client certificate');
  return value;
}

export interface WebhookFlags {
  certDir: string;
  port: number;
  host: string;
  injection: InjectionConfig;
  shutdownDelaySeconds: number;
  /** With it, /mutate and /validate answer only callers with a client certificate this CA signed. */
  clientCaFile: string | undefined;
}

/** Parses the flags of `cloudbase webhook`; a wrong flag is a UsageError naming it. */
export function parseWebhookFlags(argv: string[]): WebhookFlags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'cert-dir': { type: 'string' },
      port: { type: 'string', default: '8443' },
      host: { type: 'string', default: '0.0.0.0' },
      'runtime-image': { type: 'string', multiple: true, default: [] },
      'shutdown-delay-seconds': { type: 'string', default: '0' },
      ...CLIENT_CA_OPTION,
    },
  });
  const certDir = values['cert-dir'];
  if (certDir === undefined || certDir === '') throw new UsageError('--cert-dir is required');
  const runtimeImages = runtimeImagesFrom(values['runtime-image']);
  return {
    certDir,
    port: integerFlag('port', values.port, 0, 65535),
    host: values.host,
    injection: { runtimeImages },
    shutdownDelaySeconds: integerFlag('shutdown-delay-seconds', values['shutdown-delay-seconds'], 0, 300),
    clientCaFile: clientCaFlag(values['client-ca']),
  };
}

/** `--runtime-image RUNTIME=IMAGE` assignments over the release's default images. */
export function runtimeImagesFrom(
  assignments: readonly string[],
  base: Readonly<Record<Runtime, string>> = defaultRuntimeImages(),
  flag = '--runtime-image',
): Record<Runtime, string> {
  const runtimeImages = { ...base };
  for (const assignment of assignments) {
    const [runtime = '', image = ''] = assignment.split(/=(.*)/s);
    if (!(RUNTIMES as readonly string[]).includes(runtime) || image === '') {
      throw new UsageError(
        `${flag} ${JSON.stringify(assignment)}: use RUNTIME=IMAGE with RUNTIME one of ${RUNTIMES.join(', ')}`,
      );
    }
    runtimeImages[runtime as Runtime] = image;
  }
  return runtimeImages;
}

/** `cloudbase webhook`: serves /mutate and /validate until SIGTERM or SIGINT. */
export const webhookCommand: Command = {
  name: 'webhook',
  summary: 'serve the mutating and validating admission webhooks over HTTPS',
  usage,
  async run(argv, io) {
    const flags = parseWebhookFlags(argv);
    const logger = createLogger('webhook');
    const server = await startWebhookServer({ ...flags, logger });
    io.stdout(`cloudbase webhook serving on ${server.url}`);
    const signal = await shutdownSignal();
    logger.info({ signal, shutdownDelaySeconds: flags.shutdownDelaySeconds }, 'shutting down');
    // Behind a Service, endpoints are removed asynchronously: keep serving a moment so no review is refused.
    server.drain();
    await new Promise((resolve) => setTimeout(resolve, flags.shutdownDelaySeconds * 1000));
    await server.close();
    return 0;
  },
};
