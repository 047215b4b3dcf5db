import type { KubernetesObject, V1Lease } from '@kubernetes/client-node';
import { deleteIfExists, type Kube } from '../kube/client.js';
import { readObject, type ClusterEnv } from './cluster.js';
import { startControllerProcess, type ControllerProcess } from './controller-process.js';
import { registerWebhooks } from './webhook-configurations.js';
import { startTestWebhookServer, type TestWebhookServer } from './webhook-server.js';

/**
 * A test's controller replicas: `cloudbase controller` processes electing on a Lease of their own in the
 * test's namespace, with the webhooks installed for that namespace and served from the host, so that
 * killing or freezing a replica never takes admission down.
 */
export class ControllerReplicas {
  readonly processes: ControllerProcess[] = [];
  readonly leaseName: string;
  private webhook: TestWebhookServer | undefined;
  private configurations: KubernetesObject[] = [];

  constructor(
    private readonly env: ClusterEnv,
    private readonly kube: Kube,
    private readonly namespace: string,
  ) {
    this.leaseName = `cloudbase-controller-${namespace}`;
  }

  /** Serves the webhooks and registers them for the namespace; resolves once the API server calls them. */
  async installWebhooks(): Promise<void> {
    this.webhook = await startTestWebhookServer({ host: this.env.hostIp });
    this.configurations = await registerWebhooks(this.kube, this.env, this.namespace, this.webhook);
  }

  start(identity: string): ControllerProcess {
    const controller = startControllerProcess(this.env, {
      identity: `${identity}-${this.namespace}`,
      leaseNamespace: this.namespace,
      leaseName: this.leaseName,
    });
    this.processes.push(controller);
    return controller;
  }

  /** The identity holding the Lease, if any. */
  async holder(): Promise<string | undefined> {
    const lease = await readObject<V1Lease>(
      this.kube,
      this.namespace,
      'coordination.k8s.io/v1',
      'Lease',
      this.leaseName,
    );
    return lease?.spec?.holderIdentity;
  }

  /** Resumes any frozen replica (a stopped process keeps SIGTERM pending), stops all, removes the webhooks. */
  async stop(): Promise<void> {
    for (const controller of this.processes) controller.signal('SIGCONT');
    for (const configuration of this.configurations) await deleteIfExists(this.kube, configuration);
    await this.webhook?.stop();
    await Promise.all(this.processes.map((c) => c.stop()));
  }
}
