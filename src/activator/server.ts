/**
 * The activator's function server: every request names its function (contract/activator.ts). A function
 * with a ready pod gets the request at once; one without is woken (scale from zero, at once) and its
 * requests are held, up to a bound, until a pod answers ready, then streamed to it. A request that waited
 * too long, or found the queue full, gets 503 with Retry-After; none is dropped without an answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { activatorTarget } from '../contract/activator.js';
import { functionKeyOf } from '../scaling/pods.js';
import { createProxyAgent, forward } from './proxy.js';
import { Holder, type HoldSettings } from './holder.js';

export interface ActivatorServerOptions extends HoldSettings {
  now?: () => number;
}

/** Tries for one request whose pods refused its connection (a pod that just went away). */
const ATTEMPTS = 3;

export function createActivatorServer(opts: ActivatorServerOptions): Server {
  const agent = createProxyAgent();
  const now = opts.now ?? (() => performance.now());
  const refuse = (res: ServerResponse, status: number, message: string, retryAfter?: number): void => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
    });
    res.end(message);
  };

  const holder = new Holder({ ...opts, now, refuse });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // One request per connection: a proxy then never writes a request into a kept-alive connection this
    // activator has just closed (shutting down, or killed), which it could not retry; a new connection that
    // is refused it retries elsewhere. The activator is on a function's path only while it wakes.
    res.setHeader('connection', 'close');
    const target = activatorTarget(req.headers);
    if (target instanceof Error) return refuse(res, 404, target.message);
    const key = functionKeyOf(target.namespace, target.function);
    opts.tally.received(key, now());
    const bodiless =
      req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
    for (let attempt = 1; ; attempt++) {
      const pod = opts.pods.pick(key) ?? (await holder.hold(key, target, res));
      if (pod === undefined) return;
      // Load the autoscaler cannot see at the pod yet is reported as held (tally.ts).
      const unseen = !pod.ready;
      if (unseen) opts.tally.unseenStarted(key, now());
      const outcome = await forward(req, res, pod, agent).finally(() => {
        if (unseen) opts.tally.unseenEnded(key, now());
      });
      if (outcome.kind !== 'refused') return;
      opts.pods.distrust(pod);
      // A body already streamed to the refusing pod cannot be sent again.
      if (!bodiless || attempt === ATTEMPTS) {
        opts.logger.warn(
          { namespace: target.namespace, function: target.function, pod: pod.name, err: outcome.error },
          'function pod refused the request',
        );
        return refuse(
          res,
          502,
          `function ${key}: pod ${pod.name} refused the connection (${outcome.error.message})`,
        );
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger.error({ err }, 'activator request failed');
      refuse(res, 500, 'the activator failed');
    });
  });
  // Held requests outlive Node's default request timeout; the hold has its own bound.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 95_000;
  server.on('close', () => agent.destroy());
  return server;
}
