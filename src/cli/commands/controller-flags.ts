import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { InjectionConfig } from '../../admission/inject/config.js';
import type { BuildSettings } from '../../builder/job.js';
import { MIN_KEPT_IMAGES } from '../../builder/retention.js';
import { parseRegistry } from '../../contract/build.js';
import { parseHost } from '../../contract/fields.js';
import type { Runtime } from '../../contract/function-spec.js';
import { eventsUrlFlag, integerFlag, UsageError } from '../command.js';
import { parseServicePortRef, type ServicePortRef } from '../../controller/autoscaler/activator-routes.js';
import type { ServiceRef } from '../../controller/informers.js';
import type { ManagedCertificateSettings } from '../../webhook/managed-certificates.js';
import { CLIENT_CA_OPTION, clientCaFlag, runtimeImagesFrom } from './webhook.js';

/** The command line of `cloudbase controller`, for its help text. */
export const controllerUsage =
  'cloudbase controller [--kubeconfig PATH] [--lease-namespace cloudbase-system] [--lease-name cloudbase-controller] ' +
  '[--identity ID] [--workers 16] [--resync-seconds 60] [--metrics-port 9091] [--metrics-host 0.0.0.0] ' +
  '[--cert-dir DIR | --manage-certificates [--webhook-service cloudbase-webhook] [--webhook-configuration cloudbase] ' +
  '[--ca-secret cloudbase-webhook-ca] [--tls-secret cloudbase-webhook-tls] [--ca-validity-seconds N] ' +
  '[--cert-validity-seconds N]] [--webhook-port 8443] [--client-ca FILE] [--runtime-image RUNTIME=IMAGE]... [--shutdown-delay-seconds 0] [--autoscaler on|off] ' +
  '[--activator-service cloudbase-system/cloudbase-activator --traefik-api traefik/traefik:metrics] ' +
  '[--registry HOST[:PORT][/PREFIX] [--registry-insecure] [--assembler-image IMAGE] [--build-deadline-seconds 600] ' +
  '[--build-keep-images 3] [--build-base-image RUNTIME=IMAGE]...] [--events-url nats://HOST:PORT[,...] [--events-replicas 1]] ' +
  '[--reserved-hosts HOST[,HOST...]]';

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
        managed: ManagedCertificateSettings | undefined;
        port: number;
        injection: InjectionConfig;
        /** Refuse admission callers without a client certificate from this CA (the API server's). */
        clientCaFile: string | undefined;
      }
    | undefined;
  /**
   * `--autoscaler on|off`: off for a controller outside the cluster's pod network, which cannot read pods'
   * stats; functions then keep their replicas.
   */
  autoscaler: boolean;
  /** The activator's Service (`--activator-service`): with it, idle functions scale to zero. */
  activatorService?: ServiceRef;
  /** Traefik's API endpoints (`--traefik-api`), to confirm the activator is a function's route. */
  traefikApi?: ServicePortRef;
  /** After SIGTERM, stay up (not ready) this long so Service endpoints drop this replica before it closes. */
  shutdownDelaySeconds: number;
  /** `--reserved-hosts`: hosts no function may route, Cloudbase's own (the event ingest's). */
  reservedHosts: string[];
  /** With `--registry`: functions build into images there (src/builder). */
  builds?: BuildSettings;
  /** The runtime images (`--runtime-image`, CLOUDBASE_RUNTIME_IMAGES), which the webhook injects. */
  runtimeImages: Record<Runtime, string>;
  /**
   * What image builds put the layers on (`--build-base-image RUNTIME=IMAGE`): the runtime images unless a
   * copy in a registry the build pods reach is named (the local cluster's are only in containerd).
   */
  buildBaseImages: Record<Runtime, string>;
  /**
   * `--events-url`: the event bus (NATS with JetStream) event functions consume from; the controller keeps
   * its streams (replicated on `--events-replicas` servers) and every event function's consumer.
   */
  events?: { url: string; replicas: number };
}

/** The assembler a release ships: crane from go-containerregistry and a shell (cluster/lib/images.sh builds it). */
export const DEFAULT_ASSEMBLER_IMAGE = 'ghcr.io/cloudbase-dev/assembler:0.1.0';

const YEAR_SECONDS = 365 * 86_400;

/** The flags of `cloudbase controller`, with their defaults (POD_NAMESPACE and POD_NAME in a pod). */
function controllerOptions(env: NodeJS.ProcessEnv) {
  return {
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
    'runtime-image': { type: 'string', multiple: true, default: [] as string[] },
    'manage-certificates': { type: 'boolean', default: false },
    'webhook-service': { type: 'string', default: 'cloudbase-webhook' },
    'webhook-configuration': { type: 'string', default: 'cloudbase' },
    'ca-secret': { type: 'string', default: 'cloudbase-webhook-ca' },
    'tls-secret': { type: 'string', default: 'cloudbase-webhook-tls' },
    'ca-validity-seconds': { type: 'string', default: String(5 * YEAR_SECONDS) },
    'cert-validity-seconds': { type: 'string', default: String(YEAR_SECONDS) },
    'shutdown-delay-seconds': { type: 'string', default: '0' },
    'activator-service': { type: 'string' },
    autoscaler: { type: 'string', default: 'on' },
    'traefik-api': { type: 'string' },
    registry: { type: 'string' },
    'registry-insecure': { type: 'boolean', default: false },
    'assembler-image': { type: 'string', default: DEFAULT_ASSEMBLER_IMAGE },
    'build-deadline-seconds': { type: 'string', default: '600' },
    'build-keep-images': { type: 'string', default: '3' },
    'build-base-image': { type: 'string', multiple: true, default: [] as string[] },
    'events-url': { type: 'string' },
    'events-replicas': { type: 'string', default: '1' },
    'reserved-hosts': { type: 'string', default: '' },
    ...CLIENT_CA_OPTION,
  } as const;
}

/** Parses `cloudbase controller` flags; POD_NAMESPACE and POD_NAME (downward API) are the in-cluster defaults. */
export function parseControllerFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): ControllerFlags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: controllerOptions(env),
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
  const builds = buildFlags(values);
  const events = eventsFlags(values['events-url'], values['events-replicas']);
  const runtimeImages = runtimeImagesFrom(runtimeImageAssignments);
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
            injection: {
              runtimeImages,
              ...(builds === undefined ? {} : { registry: builds.registry }),
              ...(events === undefined ? {} : { eventsUrl: events.url }),
            },
            clientCaFile: clientCaFlag(values['client-ca']),
          },
    shutdownDelaySeconds: integerFlag('shutdown-delay-seconds', values['shutdown-delay-seconds'], 0, 300),
    autoscaler: onOff('autoscaler', values.autoscaler),
    ...activatorFlags(values['activator-service'], values['traefik-api']),
    ...(builds === undefined ? {} : { builds }),
    ...(events === undefined ? {} : { events }),
    runtimeImages,
    buildBaseImages: runtimeImagesFrom(values['build-base-image'], runtimeImages, '--build-base-image'),
    reservedHosts: reservedHostsFlag(values['reserved-hosts']),
  };
}

/** `--reserved-hosts a.example,b.example`: exact hosts, as `cloudbase.dev/host` takes them. */
function reservedHostsFlag(value: string): string[] {
  const hosts: string[] = [];
  for (const item of value.split(',').map((part) => part.trim())) {
    if (item === '') continue;
    const host = parseHost(item);
    if (!host.ok) throw new UsageError(`--reserved-hosts has ${JSON.stringify(item)}, which ${host.problem}`);
    hosts.push(host.value);
  }
  return hosts;
}

/** `--registry` and the flags that only mean something with it. */
function buildFlags(values: {
  registry?: string | undefined;
  'registry-insecure': boolean;
  'assembler-image': string;
  'build-deadline-seconds': string;
  'build-keep-images': string;
}): BuildSettings | undefined {
  const deadlineSeconds = integerFlag('build-deadline-seconds', values['build-deadline-seconds'], 30, 86_400);
  const keepImages = integerFlag('build-keep-images', values['build-keep-images'], MIN_KEPT_IMAGES, 100);
  if (values.registry === undefined) {
    if (values['registry-insecure'])
      throw new UsageError('--registry-insecure says how to reach the registry: give --registry too');
    return undefined;
  }
  const registry = parseRegistry(values.registry);
  if (registry instanceof Error) throw new UsageError(registry.message);
  const assemblerImage = values['assembler-image'].trim();
  if (assemblerImage === '' || /\s/.test(assemblerImage))
    throw new UsageError(
      `--assembler-image ${JSON.stringify(values['assembler-image'])}: expected an image reference`,
    );
  return { registry, insecure: values['registry-insecure'], assemblerImage, deadlineSeconds, keepImages };
}

/**
 * `--events-url` and its stream replication; `--events-replicas` alone says nothing and is refused.
 */
function eventsFlags(
  url: string | undefined,
  replicas: string,
): { url: string; replicas: number } | undefined {
  const count = integerFlag('events-replicas', replicas, 1, 5);
  if (url === undefined) {
    if (replicas !== '1')
      throw new UsageError('--events-replicas says how to keep the streams: give --events-url too');
    return undefined;
  }
  return { url: eventsUrlFlag(url), replicas: count };
}

function onOff(name: string, value: string): boolean {
  if (value === 'on' || value === 'off') return value === 'on';
  throw new UsageError(`--${name} ${JSON.stringify(value)}: expected on or off`);
}

/** `--activator-service NS/NAME` and `--traefik-api NS/SERVICE:PORT`: scale to zero needs both. */
function activatorFlags(
  activator: string | undefined,
  traefik: string | undefined,
): Pick<ControllerFlags, 'activatorService' | 'traefikApi'> {
  if (activator === undefined && traefik === undefined) return {};
  if (activator === undefined || traefik === undefined)
    throw new UsageError(
      '--activator-service and --traefik-api go together: a function goes to zero only once Traefik confirms the activator as its route',
    );
  const match = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(activator);
  if (match === null)
    throw new UsageError(
      `--activator-service ${JSON.stringify(activator)}: expected <namespace>/<service>, e.g. cloudbase-system/cloudbase-activator`,
    );
  const api = parseServicePortRef(traefik);
  if (api instanceof Error)
    throw new UsageError(
      `--traefik-api ${JSON.stringify(traefik)}: ${api.message}, e.g. traefik/traefik:metrics`,
    );
  return { activatorService: { namespace: match[1]!, service: match[2]! }, traefikApi: api };
}

function managedCertificatesFrom(
  values: Record<string, string | boolean | string[] | undefined>,
  env: NodeJS.ProcessEnv,
): ManagedCertificateSettings {
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
