import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { StatusAnnotation } from '../contract/annotations.js';
import { applyObject, deleteIfExists, mergePatch, type Kube } from '../kube/client.js';
import type { ClaimIndex } from './claims.js';
import type { EventRecorder } from './events.js';
import { CHILD_API_VERSIONS, type FunctionCaches } from './informers.js';
import {
  CHILD_KINDS,
  planFunction,
  type ChildAction,
  type ObservedChildren,
  type ReconcilePlan,
} from './plan.js';

export interface ReconcilerDeps {
  kube: Kube;
  caches: FunctionCaches;
  claims: ClaimIndex;
  events: EventRecorder;
  logger: Logger;
}

/**
 * Reconciles one function by level: re-reads its Deployment and children from the caches, plans with pure
 * functions, and writes only what drifted. Throws on a failed write so the queue retries with backoff.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcilePlan | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const deployment = this.deps.caches.deployments.get(name, namespace);
    // Deleted: Kubernetes' garbage collector removes the children through their owner references.
    if (deployment === undefined) return undefined;
    const claim = this.deps.claims.get(key);
    const plan = planFunction(
      deployment,
      this.observe(namespace),
      claim === undefined ? [] : this.deps.claims.competitors(claim.spec),
    );
    await this.execute(deployment, plan);
    return plan;
  }

  private observe(namespace: string): ObservedChildren {
    const observed: ObservedChildren = {};
    for (const kind of CHILD_KINDS) {
      // Objects from a list carry no kind; the cache they come from says what they are.
      observed[kind] = this.deps.caches.children[kind].list(namespace).map((object) => ({ ...object, kind }));
    }
    return observed;
  }

  private async execute(deployment: V1Deployment, plan: ReconcilePlan): Promise<void> {
    const { kube, logger } = this.deps;
    const context = {
      namespace: deployment.metadata?.namespace,
      name: deployment.metadata?.name,
      uid: deployment.metadata?.uid,
    };
    for (const action of orderForWrite(plan.actions)) {
      if (action.action === 'apply') {
        await applyObject(kube, action.object);
        logger.info({ ...context, kind: action.kind, child: action.object.metadata?.name }, 'child applied');
      } else {
        const { kind, namespace, name } = action.ref;
        await deleteIfExists(kube, {
          apiVersion: CHILD_API_VERSIONS[kind],
          kind,
          metadata: { name, namespace },
        });
        logger.info({ ...context, kind, child: name }, 'child deleted');
      }
    }
    if (plan.url !== undefined) {
      const patch: KubernetesObject = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: context.name,
          namespace: context.namespace,
          annotations: { [StatusAnnotation.url]: plan.url } as Record<string, string>,
        },
      };
      await mergePatch(kube, patch);
    }
    for (const event of plan.events) await this.deps.events.record(deployment, event);
  }
}

/** Applies first (a Service before the route that needs it), then deletes, the route before its middleware. */
function orderForWrite(actions: readonly ChildAction[]): ChildAction[] {
  const applies = actions.filter((a) => a.action === 'apply');
  const deletes = actions.filter((a) => a.action === 'delete').reverse();
  return [...applies, ...deletes];
}
