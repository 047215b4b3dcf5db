import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { FunctionController } from '../../controller/controller.js';
import { startMetricsServer } from '../../controller/metrics-server.js';
import { connect } from '../../kube/client.js';
import { createLogger } from '../../log.js';
import { integerFlag, shutdownSignal, type Command } from '../command.js';
import type { InjectionConfig } from '../../admission/inject/config.js';
import { startWebhookServer } from '../../webhook/server.js';
import { runtimeImagesFrom } from './webhook.js';

const usage =
  'cloudbase controller [--kubeconfig PATH] [--lease-namespace cloudbase-system] [--lease-name cloudbase-controller] ' +
  '[--identity ID] [--workers 16] [--resync-seconds 60] [--metrics-port 9091] [--metrics-host 0.0.0.0]';

export interface ControllerFlags {
  kubeconfig: string | undefined;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  workers: number;
  resyncSeconds: number;
  metricsPort: number;
  metricsHost: string;
  /** Also serve the admission webhooks from this process, with these certificates. */
  webhook: { certDir: string; port: number; injection: InjectionConfig } | undefined;
}

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
    },
  });
  const certDir = values['cert-dir'];
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
      certDir === undefined
        ? undefined
        : {
            certDir,
            port: integerFlag('webhook-port', values['webhook-port'], 0, 65_535),
            injection: { runtimeImages: runtimeImagesFrom(values['runtime-image']) },
          },
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
    const controller = new FunctionController({
      kube: connect(flags.kubeconfig),
      logger,
      registry,
      leaseNamespace: flags.leaseNamespace,
      leaseName: flags.leaseName,
      identity: flags.identity,
      workers: flags.workers,
      resyncMs: flags.resyncSeconds * 1000,
    });
    let synced = false;
    const metrics = await startMetricsServer({
      port: flags.metricsPort,
      host: flags.metricsHost,
      registry,
      logger,
      isReady: () => synced,
    });
    await controller.start();
    // Every replica serves the webhooks, leader or not; validation sees the routes the caches know.
    const webhook =
      flags.webhook === undefined
        ? undefined
        : await startWebhookServer({
            certDir: flags.webhook.certDir,
            port: flags.webhook.port,
            host: flags.metricsHost,
            injection: flags.webhook.injection,
            logger,
            registry,
            processMetrics: false,
            routeClaims: controller.claims,
          });
    synced = true;
    io.stdout(
      `cloudbase controller ${flags.identity} watching; lease ${flags.leaseNamespace}/${flags.leaseName}`,
    );
    const signal = await shutdownSignal();
    logger.info({ signal }, 'shutting down');
    await webhook?.close();
    await controller.stop();
    await metrics.close();
    return 0;
  },
};
