/**
 * The activator process: a watch of function pods, the function server that holds and forwards requests
 * (server.ts), and an admin server with /livez, /readyz, /stats (the autoscaler's read) and /metrics.
 * Shutdown drains as the runtime does (not ready, still serving for `drainMs`), or, force-deleted with a
 * settled peer to take new requests, closes the listener at once; then it waits until every held and
 * forwarded request has its answer (bounded by the hold timeout and a request's own).
 */
import { ListWatch, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { ANNOUNCE_AUDIENCE } from '../contract/announce.js';
import { Label } from '../contract/annotations.js';
import { reviewPodToken, scaleFromZero, type Kube } from '../kube/client.js';
import { handleAnnounce } from './announce.js';
import { ActivatorPeers } from './peers.js';
import { slimFunctionPod } from '../scaling/pods.js';
import { createActivatorAdmin } from './admin.js';
import { PodDirectory } from './pods.js';
import { createActivatorServer } from './server.js';
import { ActivatorTally } from './tally.js';

/**
 * How long a peer must have been serving before this replica leaves new requests to it: the controller's
 * activator slice update plus Traefik's provider throttle (1 s) and rebuild, with room for a loaded node.
 */
const SETTLED_PEER_MS = 5000;

export interface ActivatorOptions {
  kube: Kube;
  logger: Logger;
  host: string;
  port: number;
  adminPort: number;
  maxHeld: number;
  holdTimeoutMs: number;
  drainMs: number;
  /** The activator's own Service (`--peers`): announcements are passed on to its other pods. */
  peers?: { namespace: string; service: string };
  /** This pod's IP, which is not a peer. */
  podIp?: string;
}

export interface RunningActivator {
  url: string;
  adminUrl: string;
  /** Resolves once the pod watch has listed: until then /readyz says no. */
  synced: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startActivator(options: ActivatorOptions): Promise<RunningActivator> {
  const { kube, logger } = options;
  const pods = new PodDirectory(undefined, logger);
  const tally = new ActivatorTally();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let ready = false;
  let draining = false;

  const { informer, synced } = watchFunctionPods(kube, pods, logger);
  await informer.start();
  const peers =
    options.peers === undefined
      ? undefined
      : new ActivatorPeers({
          kube,
          logger,
          ...options.peers,
          ...(options.podIp === undefined ? {} : { selfIp: options.podIp }),
        });
  await peers?.start();
  void synced.then(() => (ready = true));
  const announcements = new Counter({
    name: 'cloudbase_activator_announcements_total',
    help: 'Announcements of ready function pods, by the HTTP status answered (202 taken, 200 known, 4xx refused)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const functionServer = createActivatorServer({
    pods,
    tally,
    logger,
    maxHeld: options.maxHeld,
    holdTimeoutMs: options.holdTimeoutMs,
    wake: async (target) => {
      if (await scaleFromZero(kube, target.namespace, target.deployment))
        logger.info({ namespace: target.namespace, name: target.deployment }, 'scaled from zero');
    },
  });
  const admin = createActivatorAdmin({
    tally,
    registry,
    notReady: () => (draining ? 'shutting down' : ready ? undefined : 'pod watch not synced'),
    announce: (headers, body) =>
      handleAnnounce(
        {
          pods,
          logger,
          announcements,
          authenticate: (token) => reviewPodToken(kube, token, ANNOUNCE_AUDIENCE),
          ...(peers === undefined ? {} : { forward: (text, token) => peers.forward(text, token) }),
        },
        headers,
        body,
      ),
  });
  const url = await listen(functionServer, options.host, options.port);
  const adminUrl = await listen(admin, options.host, options.adminPort);
  logger.info({ url, adminUrl }, 'activator listening');

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    draining = true;
    await closeOrDrain(peers, options.drainMs, logger);
    await new Promise<void>((resolve) => {
      functionServer.close(() => resolve());
      functionServer.closeIdleConnections();
    });
    await informer.stop();
    await peers?.stop();
    await new Promise<void>((resolve) => admin.close(() => resolve()));
    logger.info('activator shut down');
  };
  return { url, adminUrl, synced, shutdown: () => (stopping ??= stop()) };
}

/**
 * Force-deleted, the kubelet kills this process within 2 s: closing the listener at once makes each new
 * connection here refused, which Traefik's retry middleware (every function route has one) sends to a
 * peer the proxies have known for a while, before any byte of the request went out. Otherwise keep
 * serving until the endpoint change has reached the proxies, as the runtime does (peers.ts closesAtOnce).
 */
async function closeOrDrain(
  peers: ActivatorPeers | undefined,
  drainMs: number,
  logger: Logger,
): Promise<void> {
  const signalled = performance.now();
  const atOnce = (await peers?.closesAtOnce(SETTLED_PEER_MS, drainMs)) ?? false;
  const decidedMs = Math.round(performance.now() - signalled);
  if (atOnce) {
    logger.info({ decidedMs }, 'closing at once: force-deleted, and a settled peer takes new requests');
  } else {
    logger.info({ drainMs, decidedMs }, 'draining: serving while proxies catch up');
    await new Promise((resolve) => setTimeout(resolve, drainMs));
  }
}

/** The watch of every function pod, feeding the directory; `synced` resolves once its first list is stored. */
function watchFunctionPods(
  kube: Kube,
  pods: PodDirectory,
  logger: Logger,
): { informer: ListWatch<V1Pod>; synced: Promise<void> } {
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  const informer = new ListWatch<V1Pod>(
    '/api/v1/pods',
    new Watch(kube.config),
    async () => {
      const list = await kube.core.listPodForAllNamespaces({ labelSelector: Label.function });
      for (const pod of list.items) slimFunctionPod(pod);
      // ListWatch stores the items once this returns, before its next I/O: ready after that.
      setImmediate(markSynced);
      return list;
    },
    false,
    Label.function,
  );
  // Watch events are not slimmed: the directory keeps its own small copy of each pod (scaling/pods.ts).
  informer.on('add', (pod) => pods.update(pod));
  informer.on('update', (pod) => pods.update(pod));
  informer.on('delete', (pod) => pods.remove(pod));
  informer.on('error', (err: unknown) => {
    logger.warn({ err }, 'pod watch failed; restarting in 1 s');
    setTimeout(() => void informer.start().catch(() => undefined), 1000).unref();
  });
  return { informer, synced };
}

async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
