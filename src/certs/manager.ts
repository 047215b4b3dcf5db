import type { Logger } from 'pino';
import { describeApiError, isConflict, type Kube } from '../kube/client.js';
import { generateCertificateAuthority, issueServingCertificate, servingDnsNames } from './authority.js';
import { readWebhookBundles, writeWebhookBundles } from './ca-bundle.js';
import { everyBundleHolds, planRotation, type RotationStep } from './rotation.js';
import {
  readCertificateSecrets,
  writeAuthoritySecret,
  writeServingSecret,
  type CertificateSecretNames,
} from './secrets.js';

export interface CertificateManagerOptions {
  kube: Kube;
  logger: Logger;
  secrets: CertificateSecretNames;
  /** The Service in front of the webhooks, in `secrets.namespace`: the serving certificate's names. */
  service: string;
  /** Name of both webhook configurations whose caBundle is ours to write. */
  webhookConfiguration: string;
  caValiditySeconds: number;
  servingValiditySeconds: number;
  /** Only the leader writes; every replica runs a manager that idles while this is false. */
  isLeader: () => boolean;
  intervalMs?: number;
  /** How long the API servers may take to see a new caBundle before a certificate signed by it is served. */
  propagationMs?: number;
}

/**
 * Keeps the webhook's CA and serving certificate in their Secrets and the CA in the webhook configurations,
 * level-based: every tick reads the state, asks {@link planRotation} for the next step and does it, until
 * nothing is left to do. A crash between two steps leaves a state the next tick (or leader) continues from.
 */
export class CertificateManager {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The CA (by PEM) every webhook configuration was first seen to trust, and when. */
  private trust: { caPem: string; since: Date } | undefined;

  constructor(private readonly options: CertificateManagerOptions) {}

  start(): void {
    const tick = (): void => {
      if (this.running !== undefined || !this.options.isLeader()) return;
      this.running = this.reconcile()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.options.logger.warn(
            { err: describeApiError(error) },
            'certificate reconcile failed; retrying',
          ),
        )
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Does steps until the state is settled or must wait; at most a few per call. */
  async reconcile(): Promise<RotationStep> {
    const { kube, secrets, logger } = this.options;
    for (let steps = 0; steps < 6; steps++) {
      if (!this.options.isLeader()) return { step: 'wait', reason: 'not leading' };
      const stored = await readCertificateSecrets(kube, secrets);
      const webhooks = await readWebhookBundles(kube, this.options.webhookConfiguration);
      const now = new Date();
      const caPem = stored.certificates.authority?.pair.certPem;
      if (caPem === undefined || !everyBundleHolds(webhooks.bundles, caPem)) this.trust = undefined;
      else if (this.trust?.caPem !== caPem) this.trust = { caPem, since: now };

      const step = planRotation({
        stored: stored.certificates,
        webhookBundles: webhooks.bundles,
        trustedSince: this.trust?.since,
        dnsNames: servingDnsNames(this.options.service, secrets.namespace),
        now,
        propagationMs: this.options.propagationMs ?? 10_000,
      });
      if (step.step === 'none' || step.step === 'wait') {
        if (step.step === 'wait') logger.info({ reason: step.reason }, 'certificate rotation waits');
        return step;
      }
      // Asked again right before writing: the reads above may have taken a while (or the process was frozen).
      if (!this.options.isLeader()) return { step: 'wait', reason: 'not leading' };
      logger.info({ step: step.step, reason: step.reason }, 'certificate rotation step');
      try {
        await this.execute(step, stored, webhooks.found);
      } catch (error) {
        // Another leader wrote first: read again rather than overwrite.
        if (isConflict(error)) continue;
        throw error;
      }
    }
    return { step: 'wait', reason: 'too many steps in one tick' };
  }

  private async execute(
    step: Exclude<RotationStep, { step: 'none' | 'wait' }>,
    stored: Awaited<ReturnType<typeof readCertificateSecrets>>,
    found: string[],
  ): Promise<void> {
    const { kube, secrets, logger } = this.options;
    switch (step.step) {
      case 'issue-authority': {
        const ca = generateCertificateAuthority({ validitySeconds: this.options.caValiditySeconds });
        await writeAuthoritySecret(kube, secrets, ca, [ca.certPem, ...step.keep], stored.versions.ca);
        return;
      }
      case 'trust': {
        const authority = stored.certificates.authority!;
        if (authority.trusted.join('') !== step.bundle.join('')) {
          await writeAuthoritySecret(kube, secrets, authority.pair, step.bundle, stored.versions.ca);
        }
        if (!this.options.isLeader()) return;
        const written = await writeWebhookBundles(kube, this.options.webhookConfiguration, step.bundle);
        if (found.length === 0 || written.length === 0) {
          throw new Error(
            `no webhook configuration named ${this.options.webhookConfiguration} to write the caBundle into; ` +
              'apply manifests/ (kubectl apply -k manifests/) or fix --webhook-configuration',
          );
        }
        logger.info({ configurations: written, cas: step.bundle.length }, 'caBundle written');
        return;
      }
      case 'issue-serving': {
        const authority = stored.certificates.authority!;
        const serving = issueServingCertificate(authority.pair, {
          service: this.options.service,
          namespace: secrets.namespace,
          validitySeconds: this.options.servingValiditySeconds,
        });
        await writeServingSecret(kube, secrets, serving, authority.pair.certPem, stored.versions.tls);
        return;
      }
    }
  }
}
