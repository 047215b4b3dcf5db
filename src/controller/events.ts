import type { CoreV1Event, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError, type Kube } from '../kube/client.js';
import type { FunctionEvent } from './plan.js';

const REPORTING_CONTROLLER = 'cloudbase.dev/controller';

/**
 * Writes Kubernetes Events on a function's Deployment, the status a user sees in `kubectl describe`.
 * An event is written once per change of what it says, not at every resync.
 */
export class EventRecorder {
  private readonly last = new Map<string, string>();

  constructor(
    private readonly kube: Kube,
    private readonly identity: string,
    private readonly logger: Logger,
  ) {}

  async record(deployment: V1Deployment, event: FunctionEvent): Promise<void> {
    const { name = '', namespace = '', uid = '' } = deployment.metadata ?? {};
    const memoKey = `${uid}/${event.reason}`;
    if (this.last.get(memoKey) === event.message) return;
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace, uid },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: 'cloudbase-controller' },
      reportingComponent: REPORTING_CONTROLLER,
      reportingInstance: this.identity,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.kube.core.createNamespacedEvent({ namespace, body });
      this.last.set(memoKey, event.message);
    } catch (error) {
      // An event is best effort: losing one must not fail the reconcile.
      this.logger.warn(
        { namespace, name, uid, reason: event.reason, err: describeApiError(error) },
        'cannot record event',
      );
    }
  }

  /** Forgets a Deployment's events, so a re-created one gets them again. */
  forget(uid: string): void {
    for (const key of this.last.keys()) if (key.startsWith(`${uid}/`)) this.last.delete(key);
  }
}
