/**
 * Reads `/stats` (contract/stats.ts) from pods on the pod network: plain HTTP with keep-alive, since the
 * autoscaler asks every pod about once a second, and a short timeout, since a pod too slow to answer is
 * left out of that second's sample rather than hold the others up.
 */
import { Agent, get } from 'node:http';
import { STATS_PATH } from '../../contract/stats.js';

export type StatsReader = (ip: string, port: number) => Promise<unknown>;

/** The longest a read may take: a second's sample cannot wait longer than the second. */
export const STATS_TIMEOUT_MS = 500;

export function createStatsReader(timeoutMs = STATS_TIMEOUT_MS): { read: StatsReader; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 2, maxFreeSockets: 1, timeout: 30_000 });
  const read: StatsReader = (ip, port) =>
    new Promise((resolve, reject) => {
      const host = ip.includes(':') ? `[${ip}]` : ip;
      const request = get({ host: ip, port, path: STATS_PATH, agent, timeout: timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          if (response.statusCode !== 200)
            return reject(
              new Error(`GET http://${host}:${port}${STATS_PATH} answered ${response.statusCode}`),
            );
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(new Error(`GET http://${host}:${port}${STATS_PATH} is not JSON: ${String(err)}`));
          }
        });
      });
      request.on('timeout', () =>
        request.destroy(new Error(`GET http://${host}:${port}${STATS_PATH} took over ${timeoutMs} ms`)),
      );
      request.on('error', reject);
    });
  return { read, close: () => agent.destroy() };
}

/** GET a JSON document over plain HTTP (Traefik's API on the pod network), within `timeoutMs`. */
export function getJson(url: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        if (response.statusCode !== 200)
          return reject(new Error(`GET ${url} answered ${response.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(new Error(`GET ${url} is not JSON: ${String(err)}`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} took over ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}
