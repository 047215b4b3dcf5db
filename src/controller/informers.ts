import {
  makeInformer,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Deployment,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Label, MANAGED_BY } from '../contract/annotations.js';
import { describeApiError, type Kube } from '../kube/client.js';
import { backoffDelay, WATCH_BACKOFF } from './backoff.js';
import type { ChildKind } from './plan.js';

export type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/** Watched state: function Deployments, and the children Cloudbase made, across all namespaces. */
export interface FunctionCaches {
  deployments: Cache<V1Deployment>;
  children: Record<ChildKind, Cache<KubernetesObject>>;
}

/** Functions carry the label the mutating webhook adds; children carry our managed-by label. */
export const FUNCTION_SELECTOR = Label.function;
export const CHILD_SELECTOR = `${Label.managedBy}=${MANAGED_BY}`;

export const CHILD_API_VERSIONS: Record<ChildKind, string> = {
  Service: 'v1',
  Middleware: 'traefik.io/v1alpha1',
  IngressRoute: 'traefik.io/v1alpha1',
};

export function createCaches(kube: Kube): FunctionCaches {
  const traefik = (plural: string): Cache<KubernetesObject> =>
    makeInformer<KubernetesObject>(
      kube.config,
      `/apis/traefik.io/v1alpha1/${plural}`,
      () =>
        kube.custom.listClusterCustomObject({
          group: 'traefik.io',
          version: 'v1alpha1',
          plural,
          labelSelector: CHILD_SELECTOR,
        }) as Promise<KubernetesListObject<KubernetesObject>>,
      CHILD_SELECTOR,
    );
  return {
    deployments: makeInformer<V1Deployment>(
      kube.config,
      '/apis/apps/v1/deployments',
      () => kube.apps.listDeploymentForAllNamespaces({ labelSelector: FUNCTION_SELECTOR }),
      FUNCTION_SELECTOR,
    ),
    children: {
      Service: makeInformer<KubernetesObject>(
        kube.config,
        '/api/v1/services',
        () => kube.core.listServiceForAllNamespaces({ labelSelector: CHILD_SELECTOR }),
        CHILD_SELECTOR,
      ),
      Middleware: traefik('middlewares'),
      IngressRoute: traefik('ingressroutes'),
    },
  };
}

/**
 * Starts an informer and keeps it running: a failed list or watch is restarted after a growing backoff
 * (1 s, 2 s, 4 s ... 30 s), reset once it connects again.
 */
export async function startWithRestarts(
  name: string,
  informer: Informer<KubernetesObject>,
  logger: Logger,
  onError: () => void,
): Promise<void> {
  let failures = 0;
  informer.on('connect', () => {
    failures = 0;
  });
  informer.on('error', (error: unknown) => {
    failures += 1;
    onError();
    const delayMs = backoffDelay(failures, WATCH_BACKOFF);
    logger.warn(
      { informer: name, failures, delayMs, err: describeApiError(error) },
      'watch failed; restarting',
    );
    setTimeout(() => {
      informer.start().catch((restartError: unknown) => {
        logger.warn({ informer: name, err: describeApiError(restartError) }, 'watch restart failed');
      });
    }, delayMs).unref();
  });
  await informer.start();
}
