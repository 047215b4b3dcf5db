import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { readWebhookBundles } from '../certs/ca-bundle.js';
import { trustedByAll } from '../certs/rotation.js';
import { readServingSecret, type CertificateSecretNames } from '../certs/secrets.js';
import { describeApiError, type Kube } from '../kube/client.js';
import type { KeyPair } from './certificate-watcher.js';

export interface SecretCertificatesOptions {
  kube: Kube;
  logger: Logger;
  secrets: CertificateSecretNames;
  webhookConfiguration: string;
  pollIntervalMs?: number;
}

/**
 * The serving certificate from the Secret the leader's CertificateManager writes, read through the API
 * rather than a mounted volume: the kubelet refreshes a Secret volume only every minute or so, and a replica
 * must serve a rotated certificate within seconds. Also tells readiness whether the current caBundle of the
 * webhook configurations trusts what this replica serves.
 */
export class SecretCertificates {
  private current: KeyPair | undefined;
  private trusted = false;
  private poller: NodeJS.Timeout | undefined;
  private onReload: (pair: KeyPair, result: 'loaded' | 'rejected') => void = () => undefined;

  constructor(private readonly options: SecretCertificatesOptions) {}

  /** Waits until the Secret holds a usable pair (on a first install the leader is still making it). */
  async initial(signal?: AbortSignal): Promise<KeyPair> {
    const { logger, secrets } = this.options;
    let waitingSince = Date.now();
    for (;;) {
      if (signal?.aborted === true) throw new Error('stopped before the serving certificate was found');
      await this.poll().catch((error: unknown) =>
        logger.warn({ err: describeApiError(error) }, 'cannot read the serving certificate Secret'),
      );
      if (this.current !== undefined) return this.current;
      if (Date.now() - waitingSince > 10_000) {
        logger.info(
          { secret: `${secrets.namespace}/${secrets.tls}` },
          'waiting for the serving certificate Secret',
        );
        waitingSince = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  start(onReload: (pair: KeyPair, result: 'loaded' | 'rejected') => void): void {
    this.onReload = onReload;
    this.poller = setInterval(() => {
      this.poll().catch((error: unknown) =>
        this.options.logger.warn({ err: describeApiError(error) }, 'cannot check the serving certificate'),
      );
    }, this.options.pollIntervalMs ?? 2_000);
    this.poller.unref();
  }

  stop(): void {
    clearInterval(this.poller);
  }

  /** True once the certificate served is trusted by every webhook's caBundle (checked at each poll). */
  isTrusted(): boolean {
    return this.trusted;
  }

  private async poll(): Promise<void> {
    const { kube, logger, secrets } = this.options;
    const [pair, webhooks] = await Promise.all([
      readServingSecret(kube, secrets),
      readWebhookBundles(kube, this.options.webhookConfiguration),
    ]);
    if (pair !== undefined) {
      const next = { cert: pair.certPem, key: pair.keyPem };
      if (this.current === undefined || next.cert !== this.current.cert || next.key !== this.current.key) {
        try {
          createSecureContext(next);
          const first = this.current === undefined;
          this.current = next;
          if (!first) {
            logger.info({ secret: `${secrets.namespace}/${secrets.tls}` }, 'serving certificate reloaded');
            this.onReload(next, 'loaded');
          }
        } catch (error) {
          logger.warn(
            { err: error },
            'the serving certificate Secret does not hold a usable pair; keeping the current one',
          );
          this.onReload(next, 'rejected');
        }
      }
    }
    this.trusted =
      this.current !== undefined && trustedByAll(this.current.cert, webhooks.bundles, new Date());
  }
}
