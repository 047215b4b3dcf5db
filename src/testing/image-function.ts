import type { V1Deployment } from '@kubernetes/client-node';
import { formatClaim } from '../routing/claim.js';
import { functionSpec } from './specs.js';

export const NODE_IMAGE = 'registry.local/cloudbase/node:22.23.3';

/** A tiny HTTP server that answers with its pod name and the path it saw. */
const ECHO_SERVER = `require('http').createServer((req, res) => res.end(process.env.HOSTNAME + ' ' + req.url)).listen(8080)`;

/**
 * A complete function Deployment whose code is in the cluster's Node.js image (`cloudbase.dev/source:
 * image`), labelled as the webhook would label it, so controller tests and benchmarks need no webhook.
 */
export function imageFunction(namespace: string, name: string, route: string, replicas = 1): V1Deployment {
  const labels = { 'cloudbase.dev/function': name, 'app.kubernetes.io/managed-by': 'cloudbase' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels,
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'image',
        'cloudbase.dev/route': route,
        // The mutating webhook writes both; a route without a host is its own URL.
        'cloudbase.dev/url': route,
        'cloudbase.dev/claim': formatClaim(
          functionSpec(`${namespace}/${name}`, { 'cloudbase.dev/route': route }),
          Date.now(),
        ),
      },
    },
    spec: {
      replicas,
      selector: { matchLabels: { 'cloudbase.dev/function': name } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'function',
              image: NODE_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', '-e', ECHO_SERVER],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
              // Its own: through the mutating webhook it would otherwise get the runtime's, on a port it lacks.
              livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
            },
          ],
        },
      },
    },
  };
}
