/**
 * The function's HTTP app: every method and path goes to the adapted function. Builds the app and never
 * listens (`server.ts` does), so tests can build it and call it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { FunctionHandler, IncomingRequest } from '../model.js';
import { invokeWithTimeout, RequestAbort, writableHeaders } from './invoke.js';
import type { RuntimeMetrics } from './metrics.js';
import type { RuntimeApp } from './types.js';

export interface FunctionAppOptions {
  handler: FunctionHandler;
  logger: Logger;
  metrics: RuntimeMetrics;
  timeoutMs: number;
  maxBodyBytes: number;
}

const EMPTY = Buffer.alloc(0);
/** A caller's `x-request-id` is kept when it is a sane token; otherwise we generate one. */
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Builds the function server app. */
export function buildFunctionApp(opts: FunctionAppOptions): RuntimeApp {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.maxBodyBytes,
    // At most one access-log line per request, from the onResponse hook below, not Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    exposeHeadRoutes: false,
    genReqId: requestIdOf,
  });

  // Every content type reaches the function as the raw bytes; the adapters decode as their platform does.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Callback-style hooks: an async hook costs a promise and a tick per request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Draining: let this connection close after the answer so that shutdown does not wait on keep-alive.
    if (!app.server.listening) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    opts.metrics.observeRequest(request.method, reply.statusCode, reply.elapsedTime / 1000);
    // The access log is at debug level: Traefik, in front of every function, already writes one line per
    // request, the metrics above count every answer by method and status, and pino writes each line to
    // stdout synchronously, which on the hot path cost more than the rest of this hook. Failures are still
    // logged at error level; CLOUDBASE_LOG_LEVEL=debug brings the access log back.
    const log = request.log as Logger;
    if (log.isLevelEnabled('debug')) {
      log.debug(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request completed',
      );
    }
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message =
      status === 413
        ? `Payload Too Large: the request body exceeds the limit of ${opts.maxBodyBytes} bytes`
        : status < 500
          ? error.message
          : 'Internal Server Error';
    return reply.code(status).type('text/plain; charset=utf-8').send(message);
  });

  app.all('/*', (request, reply) => handle(opts, request, reply));
  return app;
}

async function handle(
  opts: FunctionAppOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const abort = new RequestAbort();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('the client closed the connection'));
  });
  const req: IncomingRequest = {
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: Buffer.isBuffer(request.body) ? request.body : EMPTY,
    requestId: request.id,
    // Built on first read: most functions never look at it.
    get signal() {
      return abort.signal;
    },
    // Fastify types request.log as its base logger; it is the pino child of `loggerInstance`.
    log: request.log as Logger,
  };
  const outcome = await invokeWithTimeout(opts.handler, req, opts.timeoutMs, abort);
  if (outcome.kind === 'exception') {
    opts.metrics.errors.inc({ kind: 'exception' });
    request.log.error({ err: outcome.error }, 'the function threw');
  } else if (outcome.kind === 'timeout') {
    opts.metrics.errors.inc({ kind: 'timeout' });
    request.log.error({ timeoutMs: opts.timeoutMs }, 'the function timed out');
  }
  const { status, headers, body } = outcome.response;
  return reply.code(status).headers(writableHeaders(headers)).send(body);
}

function requestIdOf(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}
