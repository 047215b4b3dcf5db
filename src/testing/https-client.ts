import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
  socket: TLSSocket;
  /** Serial number of the certificate the server presented. */
  peerSerial: string | undefined;
}

export interface HttpsRequest {
  method?: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string | number>;
  ca?: string | string[];
  agent?: Agent;
  servername?: string;
  /** Send the body in chunks without a content-length. */
  chunked?: boolean;
}

/** One HTTPS request with the given CA trusted; resolves with status, headers and body. */
export function httpsRequest(baseUrl: string, options: HttpsRequest): Promise<HttpsResponse> {
  const url = new URL(options.path, baseUrl);
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string | number> = { ...options.headers };
    if (body !== undefined && !options.chunked) headers['content-length'] = body.length;
    const req = request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        ...(options.servername === undefined ? {} : { servername: options.servername }),
      },
      (res) => {
        // Read now: a keep-alive agent detaches the socket from the response once it ends.
        const socket = res.socket as TLSSocket;
        const peerSerial = socket.getPeerX509Certificate()?.serialNumber;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as unknown,
            socket,
            peerSerial,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined && options.chunked) {
      const size = 1024 * 1024;
      for (let offset = 0; offset < body.length; offset += size)
        req.write(body.subarray(offset, offset + size));
    } else if (body !== undefined) {
      req.write(body);
    }
    req.end();
  });
}
