import type { KubernetesObject } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteIfExists, type Kube } from '../kube/client.js';
import type { ClusterEnv } from './cluster.js';
import { startControllerProcess, type ControllerProcess } from './controller-process.js';
import { registerWebhooksAt } from './webhook-configurations.js';
import { makeCertificates } from './webhook-server.js';

export interface ControllerWithWebhooks {
  controller: ControllerProcess;
  /** Stops the controller and removes its webhook configurations and certificates. */
  stop(): Promise<void>;
}

/**
 * `cloudbase controller` as its own process on the host, serving the webhooks too (as every in-cluster
 * replica does), registered for `namespaces`: admission and the controller then decide from one route table.
 * Resolves once the API server calls it for every namespace.
 */
export async function startControllerWithWebhooks(
  env: ClusterEnv,
  kube: Kube,
  options: {
    identity: string;
    leaseNamespace: string;
    namespaces: string[];
    runtimeImages?: Record<string, string>;
    /** Runs once the controller runs and before admission covers the namespaces (to make a pre-existing state). */
    beforeRegistering?: () => Promise<void>;
  },
): Promise<ControllerWithWebhooks> {
  const certDir = await mkdtemp(join(tmpdir(), 'cloudbase-controller-webhooks-'));
  const ca = await makeCertificates(certDir, [env.hostIp]);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const controller = startControllerProcess(env, {
    identity: options.identity,
    leaseNamespace: options.leaseNamespace,
    leaseName: 'cloudbase-controller',
    webhook: {
      certDir,
      port,
      host: env.hostIp,
      ...(options.runtimeImages === undefined ? {} : { runtimeImages: options.runtimeImages }),
    },
  });
  const stopAll = async (configurations: readonly KubernetesObject[]): Promise<void> => {
    for (const configuration of configurations) await deleteIfExists(kube, configuration);
    await controller.stop();
    await rm(certDir, { recursive: true, force: true });
  };
  try {
    await options.beforeRegistering?.();
    const configurations = await registerWebhooksAt(kube, env, {
      name: `cloudbase-${options.leaseNamespace}`,
      namespaces: options.namespaces,
      url: `https://${env.hostIp}:${port}`,
      ca,
    });
    return { controller, stop: () => stopAll(configurations) };
  } catch (error) {
    await stopAll([]);
    throw error;
  }
}
