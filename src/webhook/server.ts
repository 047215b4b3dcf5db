import { createServer, type Server } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { InjectionConfig } from '../admission/inject/config.js';
import type { ConfigMapKeysLookup } from '../admission/facts.js';
import type { RouteOwnership } from '../routing/table.js';
import { buildWebhookApp } from './app.js';
import { CertificateWatcher, type KeyPair } from './certificate-watcher.js';
import { ClientCaWatcher, clientCaReloads } from './client-auth.js';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.js';

/** A serving certificate that is already loaded and reports its replacements (e.g. from a Secret). */
export interface CertificateSource {
  initial: KeyPair;
  start(onReload: (pair: KeyPair, result: 'loaded' | 'rejected') => void): void;
  stop(): void;
}

export interface WebhookServerOptions {
  /** `tls.crt` and `tls.key` in this directory, reloaded when they change; or {@link certificates}. */
  certDir?: string;
  certificates?: CertificateSource;
  /** Readiness beyond listening (the served certificate is trusted by the current caBundle). */
  isReady?: () => boolean;
  port: number;
  host: string;
  injection: InjectionConfig;
  logger: Logger;
  /** Process metrics (CPU, memory, event loop) on /metrics; off in tests that run several servers. */
  processMetrics?: boolean;
  certificatePollIntervalMs?: number;
  /** Adds routes before the server starts (the benchmark's no-op route). */
  configure?: (app: FastifyInstance) => void;
  /** Existing functions' routes (the controller's index), so validation can refuse a taken route. */
  routeClaims?: RouteOwnership;
  /** Reads a source ConfigMap's keys at admission (see WebhookAppOptions). */
  configMapKeys?: ConfigMapKeysLookup;
  /** Registry to add the webhook's metrics to, shared with the controller in one process. */
  registry?: Registry;
  /**
   * PEM file of the CA that signs the API server's webhook client certificate (`--client-ca`): /mutate and
   * /validate then refuse a caller without such a certificate (401). Reloaded when it changes. Off by default.
   */
  clientCaFile?: string;
}

export interface RunningWebhookServer {
  app: FastifyInstance;
  url: string;
  /**
   * Before close, while a Service still sends traffic here: not ready, and every answer says
   * `Connection: close`, so clients (the API server) stop reusing connections to this replica.
   */
  drain(): void;
  /** Stops accepting, lets in-flight reviews finish, closes idle keep-alive connections. */
  close(): Promise<void>;
}

// Slowloris guards: a client must send its headers within 10 s and its whole request within 30 s; the API
// server's own webhook timeout is at most 30 s. Idle keep-alive connections are kept longer than the API
// server's client keeps them (Go's transport: 90 s), so the client, not we, closes an idle one: a server that
// closes first races a request being written on it ("broken pipe", a failed admission).
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/**
 * Serves the webhooks over HTTPS (TLS 1.2+) from the certificate directory, reloading it when it changes; with a
 * client CA, reviews only for callers whose client certificate it signed (the API server's), reloading it too.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<RunningWebhookServer> {
  const metrics = createWebhookMetrics({
    processMetrics: options.processMetrics ?? true,
    ...(options.registry === undefined ? {} : { registry: options.registry }),
  });
  let server: Server | undefined;
  const certificates = options.certificates ?? watchDirectory(options);
  let pair = certificates.initial;
  let ca: string | undefined;
  // New handshakes use the new certificate or CA; established connections keep going undisturbed.
  const reloadTls = (): void => server?.setSecureContext(secureContextOptions(pair, ca));
  const onReload = (loaded: KeyPair, result: 'loaded' | 'rejected'): void => {
    metrics.certificateReloads.inc({ result });
    if (result !== 'loaded') return;
    pair = loaded;
    reloadTls();
  };
  const clientCa = watchClientCa(options, metrics, (loaded) => {
    ca = loaded;
    reloadTls();
  });
  ca = clientCa?.loadInitial();
  let listening = false;
  let draining = false;
  const app = buildWebhookApp({
    logger: options.logger,
    injection: options.injection,
    metrics,
    isReady: () => listening && !draining && (options.isReady?.() ?? true),
    ...(options.routeClaims === undefined ? {} : { routeClaims: options.routeClaims }),
    ...(options.configMapKeys === undefined ? {} : { configMapKeys: options.configMapKeys }),
    requireClientCertificate: clientCa !== undefined,
    serverFactory: (handler) => {
      // With a client CA, ask every caller for a certificate but let one without through the handshake: the
      // kubelet's probes have none, and a refused admission is better told in HTTP (401) than as a TLS alert.
      const clientAuth = clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: false };
      server = createServer({ ...secureContextOptions(pair, ca), ...clientAuth }, handler);
      server.headersTimeout = HEADERS_TIMEOUT_MS;
      server.requestTimeout = REQUEST_TIMEOUT_MS;
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (draining) void reply.header('connection', 'close');
  });
  options.configure?.(app);
  await app.listen({ port: options.port, host: options.host });
  certificates.start(onReload);
  clientCa?.start();
  listening = true;
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    app,
    url: `https://${host}:${address.port}`,
    drain() {
      // Idle connections stay open: closing one races the client writing on it. The next answer on each
      // says `Connection: close`, and the client closes it.
      draining = true;
    },
    async close() {
      listening = false;
      certificates.stop();
      clientCa?.stop();
      await app.close();
      server?.closeIdleConnections();
    },
  };
}

function watchDirectory(options: WebhookServerOptions): CertificateSource {
  if (options.certDir === undefined) throw new Error('startWebhookServer needs certDir or certificates');
  let report: (pair: KeyPair, result: 'loaded' | 'rejected') => void = () => undefined;
  const watcher = new CertificateWatcher(
    options.certDir,
    options.logger,
    (pair, result) => report(pair, result),
    options.certificatePollIntervalMs,
  );
  return {
    initial: watcher.loadInitial(),
    start(onReload) {
      report = onReload;
      watcher.start();
    },
    stop: () => watcher.stop(),
  };
}

/** TLS 1.2+, the serving pair, and the client CA when there is one: the whole context, as setSecureContext wants. */
function secureContextOptions(pair: KeyPair, ca: string | undefined): SecureContextOptions {
  return { ...pair, minVersion: 'TLSv1.2', ...(ca === undefined ? {} : { ca }) };
}

/** The `--client-ca` file's watcher, counting reloads; undefined when client authentication is off. */
function watchClientCa(
  options: WebhookServerOptions,
  metrics: WebhookMetrics,
  onLoaded: (pem: string) => void,
): ClientCaWatcher | undefined {
  if (options.clientCaFile === undefined) return undefined;
  const reloads = clientCaReloads(metrics.registry);
  return new ClientCaWatcher(
    options.clientCaFile,
    options.logger,
    (pem, result) => {
      reloads.inc({ result });
      if (result === 'loaded') onLoaded(pem);
    },
    options.certificatePollIntervalMs,
  );
}
