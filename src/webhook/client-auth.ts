import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { splitPemBundle } from '../certs/rotation.js';
import { watchDirectory } from './directory-watch.js';

/**
 * Webhook caller authentication: with `--client-ca FILE`, /mutate and /validate answer only callers whose TLS
 * client certificate that CA signed, i.e. the API server configured with a client certificate for webhooks.
 * https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#authenticate-apiservers
 */

/** Whether a connection's TLS client certificate verified against the client CA, and if not, why. */
export type CallerCheck = { verified: true } | { verified: false; reason: string };

/**
 * The TLS handshake of a server with `requestCert` verified the peer against the client CA (`ca`); a caller
 * without a certificate still connects (`rejectUnauthorized: false`), so probes reach /healthz, /readyz and
 * /metrics, and the refusal is an HTTP answer that says what is missing.
 */
export function checkCaller(socket: Socket): CallerCheck {
  if (!(socket instanceof TLSSocket)) return { verified: false, reason: 'the connection is not TLS' };
  if (socket.authorized) return { verified: true };
  if (Object.keys(socket.getPeerCertificate()).length === 0)
    return { verified: false, reason: 'the connection presented no certificate' };
  // Node.js puts OpenSSL's verify error code here (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE), typed as an Error.
  const code = String(socket.authorizationError);
  return { verified: false, reason: `the certificate presented does not verify against that CA (${code})` };
}

/** The 401 message: what the caller must do. */
export function unauthenticatedMessage(check: Extract<CallerCheck, { verified: false }>): string {
  return `a client certificate signed by the configured client CA (--client-ca) is required; ${check.reason}`;
}

/**
 * Reads a client CA file: one or more PEM certificates, each a CA, that OpenSSL accepts as trust anchors.
 * Throws an error naming the file otherwise, so a wrong mount fails at start, not as a refusal of every caller.
 */
export function readClientCa(file: string): string {
  return checkClientCa(readFileSync(file, 'utf8'), file);
}

function checkClientCa(pem: string, file: string): string {
  const certificates = splitPemBundle(pem);
  if (certificates.length === 0) throw new Error(`client CA file ${file} holds no PEM certificate`);
  for (const certificate of certificates) {
    let parsed: X509Certificate;
    try {
      parsed = new X509Certificate(certificate);
    } catch (error) {
      throw new Error(
        `client CA file ${file} holds a certificate that does not parse: ${(error as Error).message}`,
      );
    }
    if (!parsed.ca)
      throw new Error(`client CA file ${file}: ${parsed.subject} is not a CA (basicConstraints)`);
  }
  createSecureContext({ ca: pem });
  return pem;
}

/**
 * Reports each new valid content of the client CA file, as CertificateWatcher does for the serving pair: it
 * watches the file's directory (a ConfigMap or Secret volume swaps its `..data` symlink) and polls, because
 * file events are not delivered on every filesystem. A content that does not load is skipped; the current CA
 * stays.
 */
export class ClientCaWatcher {
  private current: string | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    private readonly onReload: (pem: string, result: 'loaded' | 'rejected') => void,
    private readonly pollIntervalMs = 10_000,
  ) {}

  /** Loads the CA once; throws an error naming the file when it is missing or invalid. */
  loadInitial(): string {
    this.current = readClientCa(this.file);
    return this.current;
  }

  start(): void {
    this.stopWatching = watchDirectory(
      dirname(this.file),
      () => this.check(),
      this.pollIntervalMs,
      this.logger,
      'client CA',
    );
  }

  stop(): void {
    this.stopWatching?.();
  }

  private check(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      this.logger.warn({ err: error, file: this.file }, 'cannot read the client CA; keeping the current one');
      return;
    }
    if (text === this.current) return;
    try {
      checkClientCa(text, this.file);
    } catch (error) {
      this.logger.warn(
        { err: error, file: this.file },
        'new client CA does not load; keeping the current one',
      );
      this.onReload(text, 'rejected');
      return;
    }
    this.current = text;
    this.logger.info({ file: this.file }, 'client CA reloaded');
    this.onReload(text, 'loaded');
  }
}

/** `cloudbase_webhook_client_ca_reloads_total{result}`, beside the serving certificate's reload count. */
export function clientCaReloads(registry: Registry): Counter<'result'> {
  return new Counter({
    name: 'cloudbase_webhook_client_ca_reloads_total',
    help: 'Client CA (--client-ca) reloads from its file, by result.',
    labelNames: ['result'],
    registers: [registry],
  });
}
