/**
 * Publishing through the ingest on the local cluster, as a publisher outside it does: through Traefik with
 * the ingest's Host (manifests/overlays/local/ingest-route.yaml) and a token for its audience.
 */
import { Agent, request } from 'node:http';
import { INGEST_AUDIENCE, ingestPath } from '../contract/event-ingest.js';
import { clusterEnv, kubectl, type ClusterEnv } from './cluster.js';

/** The ingest's host on the local cluster's Traefik. */
export const INGEST_HOST = 'events.cloudbase.local';

export interface IngestAnswer {
  status: number;
  json: { message?: string; accepted?: number; duplicates?: number };
}

/** POSTs to a namespace's ingest path. node:http, since fetch does not send a Host header of one's own. */
export function postToIngest(
  namespace: string,
  headers: Record<string, string>,
  body: string,
  { env = clusterEnv(), agent }: { env?: ClusterEnv; agent?: Agent } = {},
): Promise<IngestAnswer> {
  const url = new URL(ingestPath(namespace), env.traefikUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { host: INGEST_HOST, ...headers },
        ...(agent === undefined ? {} : { agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as IngestAnswer['json'] });
          } catch {
            reject(new Error(`the ingest answered ${res.statusCode} with no JSON: ${text.slice(0, 300)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A token of the namespace's service account, for the ingest's audience unless another is given. */
export async function serviceAccountToken(
  namespace: string,
  serviceAccount: string,
  audience: string | null = INGEST_AUDIENCE,
): Promise<string> {
  const args = ['-n', namespace, 'create', 'token', serviceAccount];
  const made = await kubectl(audience === null ? args : [...args, '--audience', audience]);
  if (made.code !== 0) throw new Error(`kubectl create token ${namespace}/${serviceAccount}: ${made.stderr}`);
  return made.stdout.trim();
}

/** A service account allowed to publish into its namespace (the ClusterRole cloudbase-events-publisher). */
export async function makePublisher(namespace: string, serviceAccount: string): Promise<void> {
  for (const args of [
    ['create', 'serviceaccount', serviceAccount],
    [
      ...['create', 'rolebinding', serviceAccount, '--clusterrole=cloudbase-events-publisher'],
      `--serviceaccount=${namespace}:${serviceAccount}`,
    ],
  ]) {
    const made = await kubectl(['-n', namespace, ...args]);
    if (made.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${made.stderr}`);
  }
}
