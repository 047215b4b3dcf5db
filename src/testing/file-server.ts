import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  /** `http(s)://host:port`, without a trailing slash. */
  url: string;
  /** Every request's path, in order, with its answer's status. */
  requests: { path: string; status: number }[];
  /** Replaces what a path answers (the body of a 200). */
  set: (path: string, body: Buffer | string, contentType?: string) => void;
  stop: () => Promise<void>;
}

/**
 * A tiny HTTP(S) server for e2e tests: it answers GET of the paths it was given with their bytes and 404
 * otherwise, and records what was asked. It listens on `host` (the host's address on the cluster link), so
 * pods reach it without anything leaving the machine. With `tls`, it serves HTTPS with that key pair.
 */
export async function startFileServer(options: {
  host: string;
  tls?: { cert: string; key: string };
}): Promise<FileServer> {
  const files = new Map<string, { body: Buffer; contentType: string }>();
  const requests: FileServer['requests'] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = req.method === 'GET' ? files.get(path) : undefined;
    const status = file ? 200 : 404;
    requests.push({ path, status });
    res.writeHead(status, { 'content-type': file?.contentType ?? 'text/plain' });
    res.end(file?.body ?? 'not found\n');
  };
  const server = options.tls ? createHttpsServer(options.tls, handle) : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://${options.host}:${port}`,
    requests,
    set: (path, body, contentType = 'application/octet-stream') =>
      files.set(path, { body: Buffer.from(body), contentType }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
