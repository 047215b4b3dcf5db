import Fastify, {
  type FastifyBaseLogger,
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
} from 'fastify';
import type { Logger } from 'pino';
import type { AdmissionOutcome } from '../admission/decision.js';
import type { InjectionConfig } from '../admission/inject/config.js';
import { mutate } from '../admission/mutate.js';
import { readAdmissionFacts, type ConfigMapKeysLookup } from '../admission/facts.js';
import { errored } from '../admission/response.js';
import { objectRef, reviewOf, type AdmissionReview } from '../admission/review.js';
import { validate } from '../admission/validate.js';
import type { RouteOwnership } from '../routing/table.js';
import { observeAdmission, type WebhookMetrics, type WebhookName } from './metrics.js';
import { checkCaller, unauthenticatedMessage } from './client-auth.js';
import { discardBody } from './refused-body.js';
import { admissionReviewSchema } from './schemas.js';

/** Two objects of up to 3 MiB (object and oldObject) plus slack, as controller-runtime allows. */
export const MAX_REVIEW_BYTES = 7 * 1024 * 1024;

export interface WebhookAppOptions {
  logger: Logger;
  injection: InjectionConfig;
  metrics: WebhookMetrics;
  /** True once the server can answer reviews (a certificate is loaded). */
  isReady: () => boolean;
  /** Existing functions' routes, when the controller runs in the same process: validation refuses a taken route. */
  routeClaims?: RouteOwnership;
  /** Reads a source ConfigMap's keys, so one that needs no build is mounted as it is (no init container). */
  configMapKeys?: ConfigMapKeysLookup;
  /** Creates the HTTPS server; server.ts owns TLS and timeouts. Tests and benchmarks may pass their own. */
  serverFactory?: FastifyServerFactory;
  /**
   * Reviews only from a caller whose TLS client certificate the server's client CA verified (server.ts asks for
   * one); others get 401. Probes and /metrics stay open.
   */
  requireClientCertificate?: boolean;
}

/** Builds the webhook app: routes, body limits, one error handler. It never listens (see server.ts). */
export function buildWebhookApp(options: WebhookAppOptions): FastifyInstance {
  // Typed as Fastify's base logger so the app has Fastify's default instance type.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    // Each review is logged once, with its decision, by answerReview; Fastify's per-request lines would double that.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_REVIEW_BYTES,
    // Types must be exact: coercion would make the patch describe a different object than the one received.
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    ...(options.serverFactory === undefined ? {} : { serverFactory: options.serverFactory }),
  });
  // Reviews are JSON only; without this Fastify would also parse text/plain bodies.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler(options));
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ error: 'Not Found', message: 'no such route' }),
  );

  const admit = (
    webhook: WebhookName,
    decide: (review: AdmissionReview) => AdmissionOutcome | Promise<AdmissionOutcome>,
  ) =>
    app.post<{ Body: AdmissionReview }>(
      `/${webhook}`,
      {
        schema: { body: admissionReviewSchema },
        // onRequest: before the body is read, so an unknown caller cannot make us parse 7 MiB.
        ...(options.requireClientCertificate === true
          ? { onRequest: refuseUnknownCaller(options, webhook) }
          : {}),
      },
      async (request) => answerReview(options, webhook, request.body, decide),
    );
  admit('mutate', async (review) =>
    mutate(
      review.request!,
      options.injection,
      await readAdmissionFacts(review.request!, options.configMapKeys, options.routeClaims),
    ),
  );
  admit('validate', (review) =>
    validate(review.request!, options.routeClaims, new Date(), {
      registry: options.injection.registry,
      eventsUrl: options.injection.eventsUrl,
    }),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    options.isReady() ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' }),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  );
  return app;
}

/** 401 for a caller without a client certificate from the client CA, counted and logged with its address. */
function refuseUnknownCaller(
  options: WebhookAppOptions,
  webhook: WebhookName,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  return async (request, reply) => {
    const caller = checkCaller(request.raw.socket);
    if (caller.verified) return undefined;
    options.metrics.admissionErrors.inc({ webhook, reason: 'unauthenticated' });
    options.logger.warn(
      { url: request.url, remoteAddress: request.ip, reason: caller.reason },
      'caller refused: no client certificate from the client CA',
    );
    // The body is not read: Node.js reads and drops it and keeps the connection (no `Connection: close`).
    return reply.code(401).send({ error: 'Unauthorized', message: unauthenticatedMessage(caller) });
  };
}

/** Decides one review; an exception becomes a 500 review response with the uid, never a thrown error. */
async function answerReview(
  options: WebhookAppOptions,
  webhook: WebhookName,
  review: AdmissionReview,
  decide: (review: AdmissionReview) => AdmissionOutcome | Promise<AdmissionOutcome>,
): Promise<AdmissionReview> {
  const started = performance.now();
  const request = review.request!;
  const context = {
    uid: request.uid,
    kind: request.kind.kind,
    namespace: request.namespace,
    name: objectRef(request).split('/')[1],
    operation: request.operation,
    webhook,
  };
  let outcome: AdmissionOutcome;
  try {
    outcome = await decide(review);
  } catch (error) {
    options.logger.error({ ...context, err: error }, 'admission failed');
    options.metrics.admissionErrors.inc({ webhook, reason: 'internal' });
    outcome = {
      response: errored(
        request.uid,
        `cloudbase ${webhook} webhook failed; see its logs for uid ${request.uid}`,
      ),
      decision: 'error',
    };
  }
  const seconds = (performance.now() - started) / 1000;
  observeAdmission(options.metrics, webhook, outcome.decision, seconds);
  options.logger.info(
    { ...context, function: outcome.functionName, decision: outcome.decision, durationMs: seconds * 1000 },
    'admission reviewed',
  );
  return reviewOf(outcome.response);
}

/**
 * 4xx pass a helpful message through (always 400 for a body that is not a review); 5xx say nothing more. A 413
 * is sent once the refused body has been read (see discardBody), so the client still writing it reads it.
 */
function errorHandler(
  options: WebhookAppOptions,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<void> {
  return (error, request, reply) => {
    const status = error.statusCode ?? 500;
    const webhook = request.url.startsWith('/mutate')
      ? 'mutate'
      : request.url.startsWith('/validate')
        ? 'validate'
        : undefined;
    if (status >= 500) {
      options.logger.error({ err: error, url: request.url }, 'request failed');
      if (webhook !== undefined) options.metrics.admissionErrors.inc({ webhook, reason: 'internal' });
      return reply.code(500).send({ error: 'Internal Server Error', message: 'Internal Server Error' });
    }
    // controller-runtime answers a wrong content type with 400, as the API server expects; Fastify says 415.
    const code = status === 415 ? 400 : status;
    if (webhook !== undefined)
      options.metrics.admissionErrors.inc({ webhook, reason: code === 413 ? 'too_large' : 'bad_request' });
    const message = status === 415 ? `${error.message}; send application/json` : error.message;
    const rejected = { url: request.url, statusCode: code, reason: error.message, remoteAddress: request.ip };
    if (code !== 413) {
      options.logger.warn(rejected, 'request rejected');
      return reply.code(code).send({ error: 'Bad Request', message });
    }
    return discardBody(request.raw).then((bodyRead) => {
      options.logger.warn({ ...rejected, bodyRead }, 'request rejected');
      void reply.code(413).send({ error: 'Payload Too Large', message });
    });
  };
}
