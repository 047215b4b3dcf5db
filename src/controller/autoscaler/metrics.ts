/** The autoscaler's per-function Prometheus series, on the controller's registry. */
import { Gauge, type Registry } from 'prom-client';

const LABELS = ['namespace', 'function'] as const;

export interface AutoscalerMetrics {
  observedConcurrency: Gauge<(typeof LABELS)[number]>;
  desiredReplicas: Gauge<(typeof LABELS)[number]>;
  actualReplicas: Gauge<(typeof LABELS)[number]>;
  panic: Gauge<(typeof LABELS)[number]>;
  heldRequests: Gauge<(typeof LABELS)[number]>;
  eventBacklog: Gauge<(typeof LABELS)[number]>;
  /** Drops every series of a function that is gone. */
  forget(namespace: string, fn: string): void;
  /** Drops every series: this replica stopped leading. */
  clear(): void;
}

export function createAutoscalerMetrics(registry: Registry): AutoscalerMetrics {
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: LABELS, registers: [registry] });
  const metrics = {
    observedConcurrency: gauge(
      'cloudbase_autoscaler_observed_concurrency',
      'Requests in flight on the function over the last second, its pods and the activator together.',
    ),
    desiredReplicas: gauge('cloudbase_autoscaler_desired_replicas', 'Replicas the autoscaler asks for.'),
    actualReplicas: gauge('cloudbase_autoscaler_actual_replicas', 'Ready pods of the function.'),
    panic: gauge('cloudbase_autoscaler_panic', '1 while the function is in panic mode (a burst), else 0.'),
    heldRequests: gauge(
      'cloudbase_autoscaler_held_requests',
      'Requests the activator holds for the function, or streams to a pod not yet Ready.',
    ),
    eventBacklog: gauge(
      'cloudbase_autoscaler_event_backlog',
      "An event function's consumer backlog as its leader reports it: events not yet delivered plus those delivered and not yet acknowledged.",
    ),
  };
  const all = Object.values(metrics);
  return {
    ...metrics,
    forget: (namespace, fn) => {
      for (const g of all) g.remove({ namespace, function: fn });
    },
    clear: () => {
      for (const g of all) g.reset();
    },
  };
}
