/**
 * The other activator replicas, from their Service's EndpointSlices: a pod announces itself to one of them
 * (through the Service), and that one passes the announcement on to the rest, since the function's held
 * requests may wait in any replica. Terminating replicas that still serve are included: they still hold
 * requests while they drain.
 */
import { ListWatch, Watch, type V1EndpointSlice } from '@kubernetes/client-node';
import { request } from 'node:http';
import type { Logger } from 'pino';
import { ANNOUNCE_FORWARDED_HEADER, ANNOUNCE_PATH } from '../contract/announce.js';
import { activatorEndpoints, type ActivatorEndpoint } from '../contract/activator.js';
import type { Kube } from '../kube/client.js';

const FORWARD_TIMEOUT_MS = 1000;

export interface PeersOptions {
  kube: Kube;
  logger: Logger;
  namespace: string;
  service: string;
  /** This replica's own pod IP, which is no peer. */
  selfIp?: string;
}

export class ActivatorPeers {
  private readonly informer: ListWatch<V1EndpointSlice>;

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
    this.informer.on('error', (err: unknown) => {
      options.logger.warn({ err }, 'activator EndpointSlice watch failed; restarting in 1 s');
      setTimeout(() => void this.informer.start().catch(() => undefined), 1000).unref();
    });
  }

  start(): Promise<void> {
    return this.informer.start();
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
