/**
 * The function's HTTP server: every method and path goes to the adapted function. A plain `node:http`
 * request listener, because this is the hot path and a framework's routing, hooks, reply object and
 * per-request logger cost more than the function it calls (Fastify here measured 0.4–0.5× the requests/s
 * of a bare node:http server; `npm run bench:runtime`). Creates the server and never listens (`server.ts`
 * does), so tests can start it on any port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { FunctionHandler, OutgoingResponse } from '../model.js';
import { textResponse } from '../signatures/body.js';
import { callWithTimeout, type InvokeOutcome } from './invoke.js';
import type { RuntimeMetrics } from './metrics.js';
import { ReceivedRequest } from './received-request.js';
import { declaresBody, readBody } from './request-body.js';
import { isValidStatus, responseHead, type ResponseHead } from './response-head.js';

export interface FunctionServerOptions {
  handler: FunctionHandler;
  logger: Logger;
  metrics: RuntimeMetrics;
  timeoutMs: number;
  maxBodyBytes: number;
  /** True while the pod drains after SIGTERM: every answer then says `Connection: close`. */
  isDraining?: () => boolean;
}

/** Creates the function server. */
export function createFunctionServer(opts: FunctionServerOptions): Server {
  const server: Server = createServer((req, res) => new Exchange(opts, server, req, res).start());
  return server;
}

/** One request and its answer. */
class Exchange {
  private readonly started = performance.now();
  private readonly request: ReceivedRequest;
  private closeAfterAnswer = false;

  constructor(
    private readonly opts: FunctionServerOptions,
    private readonly server: Server,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.request = new ReceivedRequest(req, res, opts.logger);
    // Counted from arrival to the answer (observe): every exchange answers, whether the function answered,
    // threw or timed out, or its body never arrived, and a client that left still has its function running
    // until then. No per-request listener: this is the hot path (see function-server.test.ts).
    opts.metrics.concurrency.started(this.started);
  }

  start(): void {
    if (!declaresBody(this.req.headers)) return this.invoke();
    readBody(this.req, this.opts.maxBodyBytes, (outcome) => {
      if (outcome.ok) {
        this.request.body = outcome.body;
        return this.invoke();
      }
      // The client may still be sending the body we refused: close the connection after the answer
      // rather than read the rest (as Fastify did).
      this.closeAfterAnswer = true;
      this.answer(textResponse(outcome.status, outcome.message));
    });
  }

  private invoke(): void {
    const { handler, timeoutMs } = this.opts;
    callWithTimeout(handler, this.request, timeoutMs, this.request.abort, (outcome) => this.settle(outcome));
  }

  private settle(outcome: InvokeOutcome): void {
    if (outcome.kind === 'exception') {
      this.opts.metrics.errors.inc({ kind: 'exception' });
      this.request.log.error({ err: outcome.error }, 'the function threw');
    } else if (outcome.kind === 'timeout') {
      this.opts.metrics.errors.inc({ kind: 'timeout' });
      this.request.log.error({ timeoutMs: this.opts.timeoutMs }, 'the function timed out');
    }
    this.answer(outcome.response);
  }

  private answer(response: OutgoingResponse): void {
    let head = isValidStatus(response.status)
      ? responseHead(response, this.request.requestId)
      : this.failed(new RangeError(`the function answered with status ${response.status}`));
    try {
      this.writeHead(head);
    } catch (err) {
      // Node refuses a header name or value it cannot write (e.g. one with a line break).
      head = this.failed(err);
      this.writeHead(head);
    }
    this.res.end(head.body);
    this.observe(head.status);
  }

  private writeHead(head: ResponseHead): void {
    // Draining: the proxy retires each kept-alive connection after its answer, rather than have it cut while
    // it may be writing the next request on it; shutdown then does not wait on keep-alive either.
    if (this.closeAfterAnswer || this.opts.isDraining?.() === true || !this.server.listening)
      head.headers.connection = 'close';
    this.res.writeHead(head.status, head.headers);
  }

  /** A 500 for an answer the function got wrong, logged like any failed request. */
  private failed(err: unknown): ResponseHead {
    this.request.log.error({ err }, 'request failed');
    return responseHead(textResponse(500, 'Internal Server Error'), this.request.requestId);
  }

  private observe(status: number): void {
    const now = performance.now();
    this.opts.metrics.concurrency.finished(now);
    const ms = now - this.started;
    this.opts.metrics.observeRequest(this.request.method, status, ms / 1000);
    // The access log is at debug level: Traefik, in front of every function, already writes one line per
    // request, the metrics above count every answer by method and status, and pino writes each line to
    // stdout synchronously, which on the hot path cost more than the rest of the answer. Failures are
    // still logged at error level; CLOUDBASE_LOG_LEVEL=debug brings the access log back.
    if (this.opts.logger.isLevelEnabled('debug')) {
      this.request.log.debug(
        {
          method: this.request.method,
          url: this.request.url,
          status,
          durationMs: Math.round(ms * 100) / 100,
        },
        'request completed',
      );
    }
  }
}
