/**
 * Keeps one ServersTransport in every namespace that has a function with a route (desired/route.ts
 * desiredNamespaceTransport), and none in a namespace whose last function is gone. Each namespace's is
 * written once, however many functions reconcile at the same moment, and again only after the cache saw it
 * change or go.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { applyObject, deleteIfExists, type Kube } from '../kube/client.js';
import { isSubset } from '../kube/subset.js';
import type { Cache } from './informers.js';
import { NAMESPACE_TRANSPORT, desiredNamespaceTransport } from './desired/route.js';

export class NamespaceTransports {
  /** Namespaces whose transport this replica wrote and the cache has not seen change since. */
  private readonly written = new Set<string>();
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly kube: Kube,
    private readonly cache: Cache<KubernetesObject>,
    private readonly logger: Logger,
  ) {
    // A hand edit or delete: the next reconcile of one of the namespace's functions writes it again.
    const forget = (object: KubernetesObject): void => {
      if (object.metadata?.name === NAMESPACE_TRANSPORT) this.written.delete(object.metadata.namespace ?? '');
    };
    cache.on('update', forget);
    cache.on('delete', forget);
  }

  /** Resolves once the namespace's transport exists as desired; rejects if writing it failed. */
  ensure(namespace: string): Promise<void> {
    if (this.written.has(namespace) || this.current(namespace)) return Promise.resolve();
    let pending = this.writing.get(namespace);
    if (pending === undefined) {
      pending = applyObject(this.kube, desiredNamespaceTransport(namespace).toJSON() as KubernetesObject)
        .then(() => {
          this.written.add(namespace);
          this.logger.info({ namespace, name: NAMESPACE_TRANSPORT }, 'servers transport applied');
        })
        .finally(() => this.writing.delete(namespace));
      this.writing.set(namespace, pending);
    }
    return pending;
  }

  /** Deletes the namespace's transport when `inUse` says no function there needs it any more. */
  async removeUnless(namespace: string, inUse: boolean): Promise<void> {
    if (
      inUse ||
      (this.cache.get(NAMESPACE_TRANSPORT, namespace) === undefined && !this.written.has(namespace))
    )
      return;
    await this.writing.get(namespace)?.catch(() => undefined);
    this.written.delete(namespace);
    await deleteIfExists(this.kube, {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'ServersTransport',
      metadata: { name: NAMESPACE_TRANSPORT, namespace },
    });
    this.logger.info({ namespace, name: NAMESPACE_TRANSPORT }, 'servers transport deleted: no function left');
  }

  private current(namespace: string): boolean {
    const actual = this.cache.get(NAMESPACE_TRANSPORT, namespace);
    if (actual === undefined) return false;
    const desired = desiredNamespaceTransport(namespace);
    return isSubset({ metadata: { labels: desired.metadata?.labels }, spec: desired.spec }, actual);
  }
}
