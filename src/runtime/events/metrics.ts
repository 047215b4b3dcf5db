/**
 * An event function's metrics, on the runtime's registry: deliveries and what became of them, the handler's
 * seconds, and the latency from the event's `time` to its handling (end to end, publisher clock included).
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface EventMetrics {
  delivered: Counter;
  acked: Counter;
  retried: Counter;
  deadLettered: Counter;
  handlerSeconds: Histogram;
  /** Observes now minus the event's `time` (RFC 3339); ignores a time that does not parse. */
  observeLatency(time: string): void;
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createEventMetrics(registry: Registry): EventMetrics {
  const counter = (name: string, help: string): Counter =>
    new Counter({ name: `cloudbase_runtime_events_${name}_total`, help, registers: [registry] });
  const latency = new Histogram({
    name: 'cloudbase_runtime_event_latency_seconds',
    help: "Seconds from an event's time to the start of its handling, by the pod's clock.",
    buckets: BUCKETS,
    registers: [registry],
  });
  return {
    delivered: counter('delivered', 'Deliveries of events to this pod, redeliveries included.'),
    acked: counter('acked', 'Events handled and acknowledged.'),
    retried: counter('retried', 'Deliveries that failed and were given back for a later attempt.'),
    deadLettered: counter('dead_lettered', 'Events given up on and published to the dead-letter subject.'),
    handlerSeconds: new Histogram({
      name: 'cloudbase_runtime_event_handler_seconds',
      help: 'Seconds the handler took for one delivery.',
      buckets: BUCKETS,
      registers: [registry],
    }),
    observeLatency(time) {
      const at = Date.parse(time);
      if (!Number.isNaN(at)) latency.observe(Math.max(0, Date.now() - at) / 1000);
    },
  };
}
