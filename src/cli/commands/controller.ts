import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { FunctionController } from '../../controller/controller.js';
import { startMetricsServer } from '../../controller/metrics-server.js';
import { connect, readConfigMapKeys, type Kube } from '../../kube/client.js';
import { CertificateManager } from '../../certs/manager.js';
import { SecretCertificates } from '../../webhook/secret-certificates.js';
import type { Logger } from 'pino';
import { createLogger } from '../../log.js';
import { integerFlag, shutdownSignal, UsageError, type Command } from '../command.js';
import type { InjectionConfig } from '../../admission/inject/config.js';
import { startWebhookServer, type CertificateSource } from '../../webhook/server.js';
import { CLIENT_CA_OPTION, clientCaFlag, runtimeImagesFrom } from './webhook.js';

/** How long admission waits to read a source ConfigMap before it chooses the build init container. */
const CONFIGMAP_READ_TIMEOUT_MS = 1500;

const usage =
  'cloudbase controller [--kubeconfig PATH] [--lease-namespace cloudbase-system] [--lease-name cloudbase-controller] ' +
  '[--identity ID] [--workers 16] [--resync-seconds 60] [--metrics-port 9091] [--metrics-host 0.0.0.0] ' +
  '[--cert-dir DIR | --manage-certificates [--webhook-service cloudbase-webhook] [--webhook-configuration cloudbase] ' +
  '[--ca-secret cloudbase-webhook-ca] [--tls-secret cloudbase-webhook-tls] [--ca-validity-seconds N] ' +
  '[--cert-validity-seconds N]] [--webhook-port 8443] [--client-ca FILE] [--runtime-image RUNTIME=IMAGE]... [--shutdown-delay-seconds 0]';

/** Self-managed webhook certificates: Secrets in the pod's namespace, caBundle written by the leader. */
export interface ManagedCertificates {
  namespace: string;
  service: string;
  webhookConfiguration: string;
  caSecret: string;
  tlsSecret: string;
  caValiditySeconds: number;
  certValiditySeconds: number;
}

export interface ControllerFlags {
  kubeconfig: string | undefined;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  workers: number;
  resyncSeconds: number;
  metricsPort: number;
  metricsHost: string;
  /** Also serve the admission webhooks from this process, from a certificate directory or managed Secrets. */
  webhook:
    | {
        certDir: string | undefined;
        managed: ManagedCertificates | undefined;
        port: number;
        injection: InjectionConfig;
        /** Refuse admission callers without a client certificate from this CA (the API server's). */
        clientCaFile: string | undefined;
      }
    | undefined;
  /** After SIGTERM, stay up (not ready) this long so Service endpoints drop this replica before it closes. */
  shutdownDelaySeconds: number;
}

const YEAR_SECONDS = 365 * 86_400;

/** Parses `cloudbase controller` flags; POD_NAMESPACE and POD_NAME (downward API) are the in-cluster defaults. */
export function parseControllerFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): ControllerFlags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      kubeconfig: { type: 'string' },
      'lease-namespace': { type: 'string', default: env['POD_NAMESPACE'] ?? 'cloudbase-system' },
      'lease-name': { type: 'string', default: 'cloudbase-controller' },
      identity: { type: 'string', default: env['POD_NAME'] ?? `${hostname()}-${process.pid}` },
      workers: { type: 'string', default: '16' },
      'resync-seconds': { type: 'string', default: '60' },
      'metrics-port': { type: 'string', default: '9091' },
      'metrics-host': { type: 'string', default: '0.0.0.0' },
      'cert-dir': { type: 'string' },
      'webhook-port': { type: 'string', default: '8443' },
      'runtime-image': { type: 'string', multiple: true, default: [] },
      'manage-certificates': { type: 'boolean', default: false },
      'webhook-service': { type: 'string', default: 'cloudbase-webhook' },
      'webhook-configuration': { type: 'string', default: 'cloudbase' },
      'ca-secret': { type: 'string', default: 'cloudbase-webhook-ca' },
      'tls-secret': { type: 'string', default: 'cloudbase-webhook-tls' },
      'ca-validity-seconds': { type: 'string', default: String(5 * YEAR_SECONDS) },
      'cert-validity-seconds': { type: 'string', default: String(YEAR_SECONDS) },
      'shutdown-delay-seconds': { type: 'string', default: '0' },
      ...CLIENT_CA_OPTION,
    },
  });
  const certDir = values['cert-dir'];
  const manage = values['manage-certificates'];
  if (values['client-ca'] !== undefined && certDir === undefined && !manage) {
    throw new UsageError(
      '--client-ca protects the webhooks: serve them too (--cert-dir or --manage-certificates)',
    );
  }
  if (certDir !== undefined && manage) {
    throw new UsageError(
      '--cert-dir and --manage-certificates exclude each other: serve files, or manage Secrets',
    );
  }
  // CLOUDBASE_RUNTIME_IMAGES (from the install's ConfigMap) first, flags over it.
  const runtimeImageAssignments = [
    ...(env['CLOUDBASE_RUNTIME_IMAGES'] ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
    ...values['runtime-image'],
  ];
  return {
    kubeconfig: values.kubeconfig,
    leaseNamespace: values['lease-namespace'],
    leaseName: values['lease-name'],
    identity: values.identity,
    workers: integerFlag('workers', values.workers, 1, 64),
    resyncSeconds: integerFlag('resync-seconds', values['resync-seconds'], 5, 86_400),
    metricsPort: integerFlag('metrics-port', values['metrics-port'], 0, 65_535),
    metricsHost: values['metrics-host'],
    webhook:
      certDir === undefined && !manage
        ? undefined
        : {
            certDir,
            managed: manage ? managedCertificatesFrom(values, env) : undefined,
            port: integerFlag('webhook-port', values['webhook-port'], 0, 65_535),
            injection: { runtimeImages: runtimeImagesFrom(runtimeImageAssignments) },
            clientCaFile: clientCaFlag(values['client-ca']),
          },
    shutdownDelaySeconds: integerFlag('shutdown-delay-seconds', values['shutdown-delay-seconds'], 0, 300),
  };
}

function managedCertificatesFrom(
  values: Record<string, string | boolean | string[] | undefined>,
  env: NodeJS.ProcessEnv,
): ManagedCertificates {
  const text = (name: string): string => String(values[name]);
  const caValiditySeconds = integerFlag(
    'ca-validity-seconds',
    text('ca-validity-seconds'),
    180,
    100 * YEAR_SECONDS,
  );
  const certValiditySeconds = integerFlag(
    'cert-validity-seconds',
    text('cert-validity-seconds'),
    60,
    100 * YEAR_SECONDS,
  );
  if (certValiditySeconds > caValiditySeconds) {
    throw new UsageError(
      '--cert-validity-seconds must not exceed --ca-validity-seconds: a certificate cannot outlive its CA',
    );
  }
  return {
    namespace: env['POD_NAMESPACE'] ?? text('lease-namespace'),
    service: text('webhook-service'),
    webhookConfiguration: text('webhook-configuration'),
    caSecret: text('ca-secret'),
    tlsSecret: text('tls-secret'),
    caValiditySeconds,
    certValiditySeconds,
  };
}

/** `cloudbase controller`: a Service and a Traefik IngressRoute for every function, until SIGTERM. */
export const controllerCommand: Command = {
  name: 'controller',
  summary:
    'write a Service and a Traefik IngressRoute for every function (leader-elected); with --cert-dir, serve the webhooks too',
  usage,
  async run(argv, io) {
    const flags = parseControllerFlags(argv);
    const logger = createLogger('controller');
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const kube = connect(flags.kubeconfig);
    const controller = new FunctionController({
      kube,
      logger,
      registry,
      leaseNamespace: flags.leaseNamespace,
      leaseName: flags.leaseName,
      identity: flags.identity,
      workers: flags.workers,
      resyncMs: flags.resyncSeconds * 1000,
    });
    let synced = false;
    let stopping = false;
    const metrics = await startMetricsServer({
      port: flags.metricsPort,
      host: flags.metricsHost,
      registry,
      logger,
      isReady: () => synced && controller.synced && !stopping,
    });
    await controller.start();
    const managed = flags.webhook?.managed;
    const certificates =
      managed === undefined ? undefined : manageCertificates(kube, managed, controller, logger);
    // Every replica serves the webhooks, leader or not; validation sees the routes the caches know.
    const webhook =
      flags.webhook === undefined
        ? undefined
        : await startWebhookServer({
            ...(certificates === undefined
              ? { certDir: flags.webhook.certDir }
              : {
                  certificates: await certificates.serving(),
                  isReady: () => !stopping && certificates.trusted(),
                }),
            port: flags.webhook.port,
            host: flags.metricsHost,
            ...(flags.webhook.clientCaFile === undefined ? {} : { clientCaFile: flags.webhook.clientCaFile }),
            injection: flags.webhook.injection,
            logger,
            registry,
            processMetrics: false,
            routeClaims: controller.routes,
            // Well inside the webhook configurations' 5 s timeout; a slow read only costs the fast path.
            configMapKeys: (namespace, name) =>
              readConfigMapKeys(kube, namespace, name, CONFIGMAP_READ_TIMEOUT_MS),
          });
    synced = true;
    io.stdout(
      `cloudbase controller ${flags.identity} watching; lease ${flags.leaseNamespace}/${flags.leaseName}`,
    );
    const signal = await shutdownSignal();
    stopping = true;
    webhook?.drain();
    logger.info({ signal, shutdownDelaySeconds: flags.shutdownDelaySeconds }, 'shutting down');
    // Not ready from now on; the Service's endpoints drop this replica while it still answers.
    await new Promise((resolve) => setTimeout(resolve, flags.shutdownDelaySeconds * 1000));
    await webhook?.close();
    await certificates?.stop();
    await controller.stop();
    await metrics.close();
    return 0;
  },
};

/** The leader keeps the Secrets and caBundle; every replica serves the Secret's certificate. */
function manageCertificates(
  kube: Kube,
  managed: ManagedCertificates,
  controller: FunctionController,
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
    isLeader: () => controller.isLeader,
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
