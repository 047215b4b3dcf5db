/**
 * The activator's admin server: `/livez`, `/readyz`, `/stats` (the autoscaler's read), `/metrics`, and
 * `POST /announce`, where function pods say they are ready (announce.ts).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ANNOUNCE_PATH, MAX_ANNOUNCEMENT_BYTES } from '../contract/announce.js';
import { STATS_PATH } from '../contract/stats.js';
import type { AnnounceAnswer } from './announce.js';
import type { ActivatorTally } from './tally.js';

export function createActivatorAdmin(opts: {
  tally: ActivatorTally;
  registry: Registry;
  /** Why the activator is not ready, or undefined when it is. */
  notReady: () => string | undefined;
  /** Answers an announcement; without it, `/announce` is 404. */
  announce?: (headers: IncomingHttpHeaders, body: string) => Promise<AnnounceAnswer>;
}): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      if (!res.headersSent) res.writeHead(status, { 'content-type': type }).end(body);
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
    const announce = opts.announce;
    if (path === ANNOUNCE_PATH && announce !== undefined) {
      if (req.method !== 'POST') return send(405, 'text/plain', `${ANNOUNCE_PATH} takes POST`);
      readBounded(req, MAX_ANNOUNCEMENT_BYTES)
        .then((body) =>
          body === undefined
            ? { status: 413, message: `an announcement is at most ${MAX_ANNOUNCEMENT_BYTES} bytes` }
            : announce(req.headers, body),
        )
        .then(
          (answer) => send(answer.status, 'text/plain', answer.message),
          (err: unknown) => send(500, 'text/plain', `the announcement failed: ${String(err)}`),
        );
      return;
    }
    send(404, 'text/plain', `no ${path} here; try /livez, /readyz, /stats or /metrics`);
  });
}

/** The request's body as text, or undefined once it passes `limit` bytes (the rest is read and dropped). */
function readBounded(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', reject);
  });
}
