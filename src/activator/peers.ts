/**
 * The other activator replicas, from their Service's EndpointSlices: a pod announces itself to one of them
 * (through the Service), and that one passes the announcement on to the rest, since the function's held
 * requests may wait in any replica. Terminating replicas that still serve are included: they still hold
 * requests while they drain.
 */
import { ListWatch, Watch, type V1EndpointSlice, type V1Pod } from '@kubernetes/client-node';
import { request } from 'node:http';
import type { Logger } from 'pino';
import { ANNOUNCE_FORWARDED_HEADER, ANNOUNCE_PATH } from '../contract/announce.js';
import { activatorEndpoints, type ActivatorEndpoint } from '../contract/activator.js';
import { statusCode, type Kube } from '../kube/client.js';

const FORWARD_TIMEOUT_MS = 1000;

export interface PeersOptions {
  kube: Kube;
  logger: Logger;
  namespace: string;
  service: string;
  /** This replica's own pod IP, which is no peer. */
  selfIp?: string;
}

/**
 * Since when each peer address has been serving without a break: a peer the proxies in front have had time
 * to learn (the controller's slice update, then Traefik's 1 s provider throttle and rebuild) can take this
 * replica's new requests.
 */
export class PeerAges {
  private readonly since = new Map<string, number>();

  /** The addresses serving now. */
  observe(ips: readonly string[], now: number): void {
    const current = new Set(ips);
    for (const ip of this.since.keys()) if (!current.has(ip)) this.since.delete(ip);
    for (const ip of current) if (!this.since.has(ip)) this.since.set(ip, now);
  }

  /** How long each peer has been serving, in ms, for the log of a shutdown decision. */
  ages(now: number): Record<string, number> {
    return Object.fromEntries([...this.since].map(([ip, since]) => [ip, Math.round(now - since)]));
  }

  /** The peers that have been serving for at least `ms`. */
  settled(ms: number, now: number): string[] {
    return [...this.since].filter(([, since]) => now - since >= ms).map(([ip]) => ip);
  }
}

/** What the read of the peer pods gave: the pods, or how it failed and what the watch last saw as ready. */
export type PeerRead =
  { pods: readonly V1Pod[] } | { failed: 'unauthorized' | 'other'; readyIps: readonly string[] };

/**
 * Whether this replica, shutting down, may close its listener at once and leave new requests to a peer:
 * only when it was force-deleted and a settled peer the EndpointSlice watch sees ready is there.
 * A graceful deletion marks this pod's object deleting before the kubelet signals it, and keeps it (and so
 * its bound token) until the pod has stopped: such a pod drains as the runtime does, since closing the
 * listener resets the connections the kernel has accepted and Node not yet, whose requests Traefik has
 * already written and so cannot retry (a 502), while the grace period (70 s) leaves room for every held
 * request. A force deletion removes the object first: the read then no longer lists this pod as deleting,
 * or is refused as unauthorized once the token goes with the object, and the kubelet kills the process
 * within its 2 s minimum grace, which a drain would not survive. Any other failed read drains.
 * https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-token-volume
 */
export function closesAtOnce(
  settled: readonly string[],
  read: PeerRead,
  selfIp: string | undefined,
): boolean {
  if ('pods' in read) {
    const self = read.pods.find((pod) => pod.status?.podIP === selfIp);
    if (self?.metadata?.deletionTimestamp != null) return false;
    const serving = read.pods
      .filter((pod) => pod.metadata?.deletionTimestamp == null)
      .map((pod) => pod.status?.podIP);
    return settled.some((ip) => ip !== selfIp && serving.includes(ip));
  }
  return read.failed === 'unauthorized' && settled.some((ip) => read.readyIps.includes(ip));
}

export class ActivatorPeers {
  private readonly informer: ListWatch<V1EndpointSlice>;
  private readonly ages = new PeerAges();

  constructor(private readonly options: PeersOptions) {
    const { kube, namespace, service } = options;
    const selector = `kubernetes.io/service-name=${service}`;
    this.informer = new ListWatch<V1EndpointSlice>(
      `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
      new Watch(kube.config),
      () => kube.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: selector }),
      false,
      selector,
    );
    const observe = (): void =>
      this.ages.observe(
        this.list().map((peer) => peer.ip),
        performance.now(),
      );
    for (const event of ['add', 'update', 'delete'] as const) this.informer.on(event, observe);
    this.informer.on('error', (err: unknown) => {
      options.logger.warn({ err }, 'activator EndpointSlice watch failed; restarting in 1 s');
      setTimeout(() => void this.informer.start().catch(() => undefined), 1000).unref();
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
    this.ages.observe(
      this.list().map((peer) => peer.ip),
      performance.now(),
    );
  }

  /**
   * Whether this replica may close at once rather than drain (see closesAtOnce): another replica has been
   * serving for at least `ms` (see PeerAges) and this pod's own object is gone.
   */
  async closesAtOnce(ms: number): Promise<boolean> {
    const settled = this.ages.settled(ms, performance.now());
    if (settled.length === 0) {
      this.options.logger.info(
        { peers: this.ages.ages(performance.now()) },
        'no peer has been serving long enough to take over',
      );
      return false;
    }
    const readyIps = activatorEndpoints(this.informer.list(), 'ready').map((peer) => peer.ip);
    let read: PeerRead;
    try {
      const pods = await this.options.kube.core.listNamespacedPod({ namespace: this.options.namespace });
      read = { pods: pods.items };
    } catch (err) {
      read = { failed: statusCode(err) === 401 ? 'unauthorized' : 'other', readyIps };
      this.options.logger.warn(
        { err },
        read.failed === 'unauthorized'
          ? 'cannot read the peer pods: this pod was force-deleted (its token is refused); deciding from the EndpointSlice watch'
          : 'cannot read the peer pods; draining',
      );
    }
    const atOnce = closesAtOnce(settled, read, this.options.selfIp);
    if (!atOnce)
      this.options.logger.info(
        {
          settled,
          selfIp: this.options.selfIp,
          read:
            'pods' in read
              ? read.pods.map((pod) => ({
                  ip: pod.status?.podIP,
                  deleting: pod.metadata?.deletionTimestamp != null,
                }))
              : read,
        },
        'this pod is not force-deleted, or no settled peer serves: draining',
      );
    return atOnce;
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Every serving replica but this one. */
  list(): ActivatorEndpoint[] {
    return activatorEndpoints(this.informer.list(), 'serving').filter(
      (peer) => peer.ip !== this.options.selfIp,
    );
  }

  /** Sends a pod's announcement to every peer, marked as passed on; failures are only logged. */
  forward(body: string, token: string): void {
    for (const peer of this.list()) {
      const call = request({
        host: peer.ip,
        port: peer.adminPort,
        path: ANNOUNCE_PATH,
        method: 'POST',
        timeout: FORWARD_TIMEOUT_MS,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          [ANNOUNCE_FORWARDED_HEADER]: '1',
        },
      });
      call.on('response', (response) => response.resume());
      call.on('timeout', () => call.destroy(new Error(`no answer within ${FORWARD_TIMEOUT_MS} ms`)));
      call.on('error', (err) =>
        this.options.logger.debug({ err, peer: peer.ip }, 'could not pass an announcement on'),
      );
      call.end(body);
    }
  }
}
