/** The activator's admin server: `/livez`, `/readyz`, `/stats` (the autoscaler's read) and `/metrics`. */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { STATS_PATH } from '../contract/stats.js';
import type { ActivatorTally } from './tally.js';

export function createActivatorAdmin(opts: {
  tally: ActivatorTally;
  registry: Registry;
  /** Why the activator is not ready, or undefined when it is. */
  notReady: () => string | undefined;
}): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (path === '/livez') return send(200, 'text/plain', 'ok');
    if (path === '/readyz') {
      const reason = opts.notReady();
      return send(reason === undefined ? 200 : 503, 'text/plain', reason ?? 'ready');
    }
    if (path === STATS_PATH)
      return send(200, 'application/json', JSON.stringify(opts.tally.read(performance.now())));
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, opts.registry.contentType, text),
        () => send(500, 'text/plain', 'metrics failed'),
      );
      return;
    }
    send(404, 'text/plain', `no ${path} here; try /livez, /readyz, /stats or /metrics`);
  });
}
