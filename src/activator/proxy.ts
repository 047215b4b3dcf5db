/**
 * Streams one request to a function pod and its answer back, as Traefik would have: same method, path,
 * headers and body, minus the hop-by-hop headers (RFC 9110 §7.6.1).
 */
import {
  Agent,
  request,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { FunctionPod } from '../scaling/pods.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  return out;
}

export type ForwardOutcome =
  | { kind: 'answered'; status: number }
  /** No byte of the answer was written, and the pod never took the request: another pod may. */
  | { kind: 'refused'; error: Error }
  | { kind: 'failed'; error: Error };

export function createProxyAgent(): Agent {
  return new Agent({ keepAlive: true, maxFreeSockets: 64, timeout: 60_000 });
}

/** Sends `req` to the pod and streams the answer into `res`. */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  pod: FunctionPod,
  agent: Agent,
): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    const upstream = request({
      host: pod.ip,
      port: pod.httpPort,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.headers),
      agent,
    });
    let connected = false;
    upstream.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
      answer.on('end', () => resolve({ kind: 'answered', status: answer.statusCode ?? 502 }));
      answer.on('error', (error) => {
        res.destroy(error);
        resolve({ kind: 'failed', error });
      });
    });
    upstream.on('error', (error) => {
      // A refused or reset connection before the request went out: the pod never saw it.
      if (!res.headersSent && !connected) resolve({ kind: 'refused', error });
      else {
        if (!res.headersSent)
          res
            .writeHead(502, { 'content-type': 'text/plain; charset=utf-8' })
            .end(`the function pod failed: ${error.message}`);
        else res.destroy(error);
        resolve({ kind: 'failed', error });
      }
    });
    // The client went away: so does the request to the pod.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
}
