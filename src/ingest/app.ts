/**
 * The HTTP ingest: `POST /namespaces/<namespace>/events` takes CloudEvents 1.0 in binary, structured or
 * batch mode and answers 202 once JetStream stored every one of them. What it refuses, it names: 400 a
 * malformed event, 401 no valid token, 403 no right to publish there, 404 another path, 413 too large a
 * body, 422 an event no function takes, 503 the bus or the API server not reachable (nothing of such a
 * request is lost: a retry of it is deduplicated by each event's source and id).
 * The app never listens (cli/commands/ingest.ts does).
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { eventSubject, isEventType } from '../contract/event-bus.js';
import { ingestNamespace, ingestPath, MAX_INGEST_BODY_BYTES } from '../contract/event-ingest.js';
import { decodeHttpEvents, type BusEvent } from '../bus/http-events.js';
import type { PublishDecision } from './authorize.js';

export interface IngestAppOptions {
  logger: Logger;
  /** Whether the request's Authorization header may publish into the namespace; rejects when it cannot tell. */
  authorize: (authorization: string | undefined, namespace: string) => Promise<PublishDecision>;
  /** The subjects no function takes; rejects when the bus cannot be read. */
  untaken: (subjects: readonly string[]) => Promise<string[]>;
  /** Publishes one event into the namespace; resolves once stored, `duplicate` when it was already. */
  publish: (namespace: string, event: BusEvent) => Promise<{ duplicate: boolean }>;
  /** Why the ingest cannot take events now (the bus not connected), or undefined. */
  notReady: () => string | undefined;
}

/** What a 202 answers: how many events were stored, and how many of them were stored before (a retry). */
export interface IngestAccepted {
  accepted: number;
  duplicates: number;
}

export function buildIngestApp(options: IngestAppOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_INGEST_BODY_BYTES,
  });
  // Every body as bytes: the CloudEvents decoder reads the headers to tell the mode, and binary data stays
  // as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      options.logger.error({ err: error, url: request.url }, 'ingest request failed');
      return problem(reply, 500, 'Internal Server Error');
    }
    const message =
      status === 413
        ? `the body is larger than ${MAX_INGEST_BODY_BYTES} bytes; send the events in smaller batches`
        : error.message;
    return problem(reply, status, message);
  });
  app.setNotFoundHandler((request, reply) =>
    problem(
      reply,
      404,
      `no ${request.method} ${request.url} here; POST events to ${ingestPath('<namespace>')}`,
    ),
  );

  app.get('/livez', async () => 'ok');
  app.get('/readyz', async (_request, reply) => {
    const reason = options.notReady();
    return reply.code(reason === undefined ? 200 : 503).send(reason ?? 'ready');
  });

  app.post('/namespaces/:namespace/events', (request, reply) => takeEvents(options, request, reply));
  return app;
}

/** One POST: where to, who, what; refused as a whole or published as a whole. */
async function takeEvents(
  options: IngestAppOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const namespace = ingestNamespace(request.url.split('?', 1)[0]!);
  if (namespace instanceof Error) return problem(reply, 404, namespace.message);
  const notReady = options.notReady();
  if (notReady !== undefined) return problem(reply, 503, `the ingest cannot take events now: ${notReady}`);

  let decision: PublishDecision;
  try {
    decision = await options.authorize(request.headers.authorization, namespace);
  } catch (error) {
    options.logger.error({ err: error, namespace }, 'could not ask the API server who may publish');
    return problem(
      reply,
      503,
      `could not ask the API server whether this request may publish: ${describe(error)}`,
    );
  }
  if (!decision.ok) return problem(reply, decision.status, decision.message);

  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const decoded = decodeHttpEvents(request.headers, body);
  if (!decoded.ok) return problem(reply, 400, decoded.problem);
  const unroutable = decoded.events.find((event) => !isEventType(event.attributes.type));
  if (unroutable !== undefined)
    return problem(
      reply,
      400,
      `type ${JSON.stringify(unroutable.attributes.type)} cannot be routed: a type is dot-separated segments of printable ASCII without spaces, "*" or ">", at most 200 characters`,
    );

  const subjects = decoded.events.map((event) => eventSubject(namespace, event.attributes.type));
  let untaken: string[];
  try {
    untaken = await options.untaken(subjects);
  } catch (error) {
    return problem(reply, 503, `could not read which functions take events from the bus: ${describe(error)}`);
  }
  if (untaken.length > 0) {
    const types = [...new Set(untaken)].map((subject) => JSON.stringify(typeOf(namespace, subject)));
    return problem(
      reply,
      422,
      `no event function in namespace ${namespace} takes events of type ${types.join(', ')} (cloudbase.dev/events); nothing of this request was published`,
    );
  }

  const results = await Promise.allSettled(decoded.events.map((event) => options.publish(namespace, event)));
  const failed = results.filter((result) => result.status === 'rejected');
  if (failed.length > 0) {
    const reason = describe((failed[0] as PromiseRejectedResult).reason);
    options.logger.warn({ namespace, failed: failed.length, of: results.length, reason }, 'publish failed');
    return problem(
      reply,
      503,
      `the bus stored ${results.length - failed.length} of ${results.length} events and refused the others (${reason}); send the request again: events already stored are deduplicated by source and id`,
    );
  }
  const duplicates = results.filter(
    (result) => result.status === 'fulfilled' && result.value.duplicate,
  ).length;
  const accepted: IngestAccepted = { accepted: results.length, duplicates };
  options.logger.debug({ namespace, user: decision.user, ...accepted }, 'events published');
  return reply.code(202).send(accepted);
}

function problem(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ status, message });
}

function typeOf(namespace: string, subject: string): string {
  return subject.slice(eventSubject(namespace, '').length);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
