import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The controller's Prometheus metrics. */
export interface ControllerMetrics {
  reconcileDuration: Histogram<'result'>;
  queueDepth: Gauge;
  retries: Counter;
  errors: Counter<'kind'>;
  leader: Gauge;
}

export function createControllerMetrics(registry: Registry): ControllerMetrics {
  return {
    reconcileDuration: new Histogram({
      name: 'cloudbase_controller_reconcile_duration_seconds',
      help: 'Time to reconcile one function, by result (success or error).',
      labelNames: ['result'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'cloudbase_controller_queue_depth',
      help: 'Functions waiting to be reconciled.',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'cloudbase_controller_retries_total',
      help: 'Reconciles re-queued after a failure.',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'cloudbase_controller_errors_total',
      help: 'Controller errors, by kind (reconcile, watch, lease).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'cloudbase_controller_leader',
      help: '1 when this replica holds the controller Lease and reconciles, else 0.',
      registers: [registry],
    }),
  };
}
