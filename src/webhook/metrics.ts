import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../admission/decision.js';

export type WebhookName = 'mutate' | 'validate';

/** Why a review got no decision: the body never became a review, or the webhook failed on it. */
export type AdmissionErrorReason = 'bad_request' | 'too_large' | 'unauthenticated' | 'internal';

/** The webhook server's Prometheus metrics, on a registry of its own so several apps can coexist in a test. */
export interface WebhookMetrics {
  registry: Registry;
  admissionDuration: Histogram<'webhook' | 'decision'>;
  admissionErrors: Counter<'webhook' | 'reason'>;
  certificateReloads: Counter<'result'>;
}

export function createWebhookMetrics(options: {
  processMetrics: boolean;
  registry?: Registry;
}): WebhookMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    admissionDuration: new Histogram({
      name: 'cloudbase_admission_duration_seconds',
      help: 'Time to answer an admission review, by webhook and decision.',
      labelNames: ['webhook', 'decision'],
      // The API server's default webhook timeout is 10 s; ours is a few ms, so the buckets start small.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    admissionErrors: new Counter({
      name: 'cloudbase_admission_errors_total',
      help: 'Admission requests that got no decision: malformed, too large, from a caller without the client certificate, or a failure of the webhook.',
      labelNames: ['webhook', 'reason'],
      registers: [registry],
    }),
    certificateReloads: new Counter({
      name: 'cloudbase_webhook_certificate_reloads_total',
      help: 'Serving certificate reloads from the certificate directory, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

export function observeAdmission(
  metrics: WebhookMetrics,
  webhook: WebhookName,
  decision: Decision,
  seconds: number,
): void {
  metrics.admissionDuration.observe({ webhook, decision }, seconds);
}
