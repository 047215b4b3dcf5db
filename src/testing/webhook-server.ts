import type { ConfigMapKeysLookup } from '../admission/facts.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { main } from '../cli/run.js';
import type { InjectionConfig } from '../admission/inject/config.js';
import { startWebhookServer, type RunningWebhookServer } from '../webhook/server.js';
import { TEST_CONFIG } from './fixtures.js';

export interface TestWebhookServer {
  server: RunningWebhookServer;
  certDir: string;
  ca: string;
  /** Writes a fresh CA and serving certificate with `cloudbase certs`; returns the new CA. */
  rotate: () => Promise<string>;
  stop: () => Promise<void>;
}

/** Makes certificates with `cloudbase certs` exactly as a user would, into `dir`; returns the CA. */
export async function makeCertificates(dir: string, ips: string[] = ['127.0.0.1']): Promise<string> {
  const errors: string[] = [];
  const code = await main(
    [
      'certs',
      '--out',
      dir,
      '--service',
      'cloudbase-webhook',
      '--namespace',
      'cloudbase-system',
      ...ips.flatMap((ip) => ['--ip', ip]),
    ],
    { stdout: () => undefined, stderr: (line) => errors.push(line) },
  );
  if (code !== 0) throw new Error(`cloudbase certs failed (${code}): ${errors.join('\n')}`);
  return readFile(join(dir, 'ca.crt'), 'utf8');
}

/** Starts the real webhook server on 127.0.0.1 with certificates from `cloudbase certs`. */
export async function startTestWebhookServer(
  options: {
    injection?: InjectionConfig;
    pollIntervalMs?: number;
    host?: string;
    /** Reads source ConfigMaps as the controller's webhook does (without it, every source gets the build). */
    configMapKeys?: ConfigMapKeysLookup;
    /** `--client-ca`: reviews only from callers with a client certificate this CA file signed. */
    clientCaFile?: string;
  } = {},
): Promise<TestWebhookServer> {
  const host = options.host ?? '127.0.0.1';
  const certDir = await mkdtemp(join(tmpdir(), 'cloudbase-webhook-test-'));
  const ca = await makeCertificates(certDir, [host]);
  const server = await startWebhookServer({
    certDir,
    port: 0,
    host,
    injection: options.injection ?? TEST_CONFIG,
    logger: pino({ level: process.env['CLOUDBASE_TEST_LOG'] ?? 'silent' }),
    processMetrics: false,
    certificatePollIntervalMs: options.pollIntervalMs ?? 200,
    ...(options.configMapKeys === undefined ? {} : { configMapKeys: options.configMapKeys }),
    ...(options.clientCaFile === undefined ? {} : { clientCaFile: options.clientCaFile }),
  });
  return {
    server,
    certDir,
    ca,
    rotate: () => makeCertificates(certDir, [host]),
    stop: async () => {
      await server.close();
      await rm(certDir, { recursive: true, force: true });
    },
  };
}
