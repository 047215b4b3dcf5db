import type { Logger } from 'pino';
import { CertificateManager } from '../certs/manager.js';
import type { Kube } from '../kube/client.js';
import { SecretCertificates } from './secret-certificates.js';
import type { CertificateSource } from './server.js';

/** Self-managed webhook certificates: Secrets in the pod's namespace, caBundle written by the leader. */
export interface ManagedCertificateSettings {
  namespace: string;
  service: string;
  webhookConfiguration: string;
  caSecret: string;
  tlsSecret: string;
  caValiditySeconds: number;
  certValiditySeconds: number;
}

/** The leader keeps the Secrets and caBundle; every replica serves the Secret's certificate. */
export function manageCertificates(
  kube: Kube,
  managed: ManagedCertificateSettings,
  isLeader: () => boolean,
  logger: Logger,
): { serving: () => Promise<CertificateSource>; trusted: () => boolean; stop: () => Promise<void> } {
  const secrets = { namespace: managed.namespace, ca: managed.caSecret, tls: managed.tlsSecret };
  const manager = new CertificateManager({
    kube,
    logger,
    secrets,
    service: managed.service,
    webhookConfiguration: managed.webhookConfiguration,
    caValiditySeconds: managed.caValiditySeconds,
    servingValiditySeconds: managed.certValiditySeconds,
    isLeader,
  });
  manager.start();
  const source = new SecretCertificates({
    kube,
    logger,
    secrets,
    webhookConfiguration: managed.webhookConfiguration,
  });
  return {
    async serving() {
      const initial = await source.initial();
      return { initial, start: (onReload) => source.start(onReload), stop: () => source.stop() };
    },
    trusted: () => source.isTrusted(),
    async stop() {
      source.stop();
      await manager.stop();
    },
  };
}
