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

/**
 * What says how this pod is being deleted: the watch of its own pod (`watched`: its object gone, or marked
 * deleting), else a read of the peer pods: the pods, or how it failed; with what the EndpointSlice watch
 * last saw as ready.
 */
export type PeerRead =
  | { watched: OwnPodState; readyIps: readonly string[] }
  | { pods: readonly V1Pod[] }
  | { failed: 'unauthorized' | 'other'; readyIps: readonly string[] };

/** This pod's object as its watch shows it: gone, or deleting with the grace its deletion gave. */
export type OwnPodState = { kind: 'gone' } | { kind: 'deleting'; graceSeconds: number | undefined };

/**
 * Whether this replica, shutting down, may close its listener at once and leave new requests to a peer:
 * only when the kubelet kills it before a drain could end (a force deletion) and a settled peer the
 * EndpointSlice watch sees ready is there.
 * A graceful deletion marks this pod's object deleting, with its grace period (70 s), before the kubelet
 * signals it, and keeps it (and so its bound token) until the pod has stopped: such a pod drains as the
 * runtime does, since closing the listener resets the connections the kernel has accepted and Node not
 * yet, whose requests Traefik has already written and so cannot retry (a 502), while the grace period
 * leaves room for every held request. A force deletion gives a grace of 0 (the object may still show,
 * marked deleting with it, for a moment), then removes the object: the read no longer lists this pod, or is
 * refused as unauthorized once the token goes with the object, and the kubelet kills the process within its
 * 2 s minimum grace, which a drain of `drainMs` would not survive. Any other failed read drains.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination-forced
 * https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-token-volume
 */
export function closesAtOnce(
  settled: readonly string[],
  read: PeerRead,
  selfIp: string | undefined,
  drainMs: number,
): boolean {
  const killedFirst = (graceSeconds: number | undefined): boolean =>
    graceSeconds !== undefined && graceSeconds * 1000 < drainMs;
  if ('watched' in read) {
    const state = read.watched;
    if (state.kind === 'deleting' && !killedFirst(state.graceSeconds)) return false;
    return settled.some((ip) => read.readyIps.includes(ip));
  }
  if ('pods' in read) {
    const self = read.pods.find((pod) => pod.status?.podIP === selfIp);
    if (self?.metadata?.deletionTimestamp != null && !killedFirst(self.metadata.deletionGracePeriodSeconds))
      return false;
    const serving = read.pods
      .filter((pod) => pod.metadata?.deletionTimestamp == null)
      .map((pod) => pod.status?.podIP);
    return settled.some((ip) => ip !== selfIp && serving.includes(ip));
  }
  return read.failed === 'unauthorized' && settled.some((ip) => read.readyIps.includes(ip));
}

/** How long shutdown waits for the watch of its own pod to show the deletion that signalled it. */
const OWN_POD_WAIT_MS = 1000;

export class ActivatorPeers {
  private readonly informer: ListWatch<V1EndpointSlice>;
  private readonly ages = new PeerAges();
  /**
   * This pod's own object (by its IP), watched so that shutdown knows at once how it is being deleted: the
   * kubelet acts on the same change, so the watch has it by the signal, or a moment later.
   */
  private readonly ownPod: ListWatch<V1Pod> | undefined;
  /** The watch has shown this pod's object: from then on, its absence means it was deleted. */
  private ownPodSeen = false;

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
    this.ownPod = options.selfIp === undefined ? undefined : this.watchOwnPod(options.selfIp);
  }

  private watchOwnPod(selfIp: string): ListWatch<V1Pod> {
    const { kube, namespace } = this.options;
    const fieldSelector = `status.podIP=${selfIp}`;
    const watch: ListWatch<V1Pod> = new ListWatch<V1Pod>(
      `/api/v1/namespaces/${namespace}/pods`,
      new Watch(kube.config),
      () => kube.core.listNamespacedPod({ namespace, fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    // Its IP may reach the pod's status after this process started: seen once it is there.
    watch.on('add', () => (this.ownPodSeen = true));
    watch.on('error', (err: unknown) => {
      this.options.logger.warn({ err }, "the watch of this activator's own pod failed; restarting in 1 s");
      setTimeout(() => void watch.start().catch(() => undefined), 1000).unref();
    });
    return watch;
  }

  /**
   * How this pod is being deleted, as the watch of its own object shows it: `gone` (force-deleted),
   * `deleting` (a graceful deletion), or undefined when the watch has not shown either within `waitMs`.
   */
  private async ownPodState(waitMs: number): Promise<OwnPodState | undefined> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (this.ownPod !== undefined && this.ownPodSeen) {
        const own = this.ownPod.list();
        if (own.length === 0) return { kind: 'gone' };
        const deleting = own.find((pod) => pod.metadata?.deletionTimestamp != null);
        if (deleting !== undefined)
          return { kind: 'deleting', graceSeconds: deleting.metadata?.deletionGracePeriodSeconds };
      }
      if (performance.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async start(): Promise<void> {
    await Promise.all([this.informer.start(), this.ownPod?.start()]);
    this.ages.observe(
      this.list().map((peer) => peer.ip),
      performance.now(),
    );
  }

  /**
   * Whether this replica may close at once rather than drain (see closesAtOnce): another replica has been
   * serving for at least `ms` (see PeerAges) and this pod's own object is gone.
   */
  async closesAtOnce(ms: number, drainMs: number): Promise<boolean> {
    const settled = this.ages.settled(ms, performance.now());
    if (settled.length === 0) {
      this.options.logger.info(
        { peers: this.ages.ages(performance.now()) },
        'no peer has been serving long enough to take over',
      );
      return false;
    }
    const readyIps = activatorEndpoints(this.informer.list(), 'ready').map((peer) => peer.ip);
    const watched = await this.ownPodState(OWN_POD_WAIT_MS);
    let read: PeerRead;
    if (watched !== undefined) read = { watched, readyIps };
    else
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
    const atOnce = closesAtOnce(settled, read, this.options.selfIp, drainMs);
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

  async stop(): Promise<void> {
    await Promise.all([this.informer.stop(), this.ownPod?.stop()]);
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
