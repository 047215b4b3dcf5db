import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { linkBus, type BusLink } from '../../bus/connect.js';
import { FunctionController, type ControllerOptions } from '../../controller/controller.js';
import { startMetricsServer } from '../../controller/metrics-server.js';
import type { ServiceRef } from '../../controller/informers.js';
import { connect, describeApiError, readConfigMapKeys, serviceUrl, type Kube } from '../../kube/client.js';
import { createLogger } from '../../log.js';
import { manageCertificates } from '../../webhook/managed-certificates.js';
import { startWebhookServer } from '../../webhook/server.js';
import { shutdownSignal, type Command } from '../command.js';
import { controllerUsage as usage, parseControllerFlags, type ControllerFlags } from './controller-flags.js';

/** How long admission waits to read a source ConfigMap before it chooses the build init container. */
const CONFIGMAP_READ_TIMEOUT_MS = 1500;

/**
 * Where injected functions announce themselves (contract/announce.ts): the activator Service's admin port.
 * Without it, functions are injected without the announcement and held requests wait for the pod watch, so
 * a missing Service is a warning, not a failure.
 */
async function announceUrl(kube: Kube, activator: ServiceRef, logger: Logger): Promise<string | undefined> {
  try {
    const url = await serviceUrl(kube, activator.namespace, activator.service, 'admin');
    if (!(url instanceof Error)) return url;
    logger.warn({ reason: url.message }, 'functions will not announce themselves to the activator');
  } catch (err) {
    logger.warn(
      { reason: describeApiError(err), service: `${activator.namespace}/${activator.service}` },
      'cannot read the activator Service; functions will not announce themselves to it',
    );
  }
  return undefined;
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
    // Connected in the background: an unreachable bus fails only the reconciles of event functions.
    const bus =
      flags.events === undefined
        ? undefined
        : linkBus({
            servers: flags.events.url,
            name: `cloudbase-controller ${flags.identity}`,
            logger,
          });
    const controller = new FunctionController(controllerOptions(flags, kube, logger, registry, bus));
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
    const activatorUrl =
      flags.webhook === undefined || flags.activatorService === undefined
        ? undefined
        : await announceUrl(kube, flags.activatorService, logger);
    const managed = flags.webhook?.managed;
    const certificates =
      managed === undefined
        ? undefined
        : manageCertificates(kube, managed, () => controller.isLeader, logger);
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
            injection: {
              ...flags.webhook.injection,
              ...(activatorUrl === undefined ? {} : { activatorUrl }),
            },
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
    await bus?.close();
    await metrics.close();
    return 0;
  },
};

/** What the controller is given, from its flags and the connections made. */
function controllerOptions(
  flags: ControllerFlags,
  kube: Kube,
  logger: Logger,
  registry: Registry,
  bus: BusLink | undefined,
): ControllerOptions {
  return {
    kube,
    logger,
    registry,
    leaseNamespace: flags.leaseNamespace,
    leaseName: flags.leaseName,
    identity: flags.identity,
    workers: flags.workers,
    resyncMs: flags.resyncSeconds * 1000,
    autoscaler: flags.autoscaler,
    reservedHosts: flags.reservedHosts,
    ...(flags.activatorService === undefined ? {} : { activatorService: flags.activatorService }),
    ...(flags.traefikApi === undefined ? {} : { traefikApi: flags.traefikApi }),
    ...(flags.builds === undefined
      ? {}
      : {
          builds: {
            settings: flags.builds,
            baseImages: flags.buildBaseImages,
            runtimeImages: flags.runtimeImages,
          },
        }),
    ...(bus === undefined || flags.events === undefined
      ? {}
      : { events: { jsm: () => bus.manager(), replicas: flags.events.replicas } }),
  };
}
