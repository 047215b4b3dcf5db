import { readFileSync } from 'node:fs';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { eventually, kubectl, type ClusterEnv } from './cluster.js';
import type { TestWebhookServer } from './webhook-server.js';
import { deleteIfExists, type Kube } from '../kube/client.js';

/** Where a test's webhooks are served, and for which namespaces. */
export interface WebhookTarget {
  /** Name of the two configurations. */
  name: string;
  namespaces: readonly string[];
  /** `https://host:port` of the server; the paths come from the manifests. */
  url: string;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
}

/**
 * The webhook configurations of manifests/, as the install ships them, pointed at a test's webhook server
 * (url + caBundle instead of the in-cluster Service) and narrowed to its namespaces, so that tests running
 * side by side each get only their own Deployments.
 */
export function webhookConfigurationsAt(target: WebhookTarget): KubernetesObject[] {
  const caBundle = Buffer.from(target.ca).toString('base64');
  return ['mutating', 'validating'].map((file) => {
    const path = new URL(`../../manifests/base/webhooks/${file}.yaml`, import.meta.url);
    const [configuration] = loadAllYaml(readFileSync(path, 'utf8')) as (KubernetesObject & {
      webhooks: { clientConfig: unknown; namespaceSelector: unknown }[];
    })[];
    configuration!.metadata = { name: target.name };
    for (const webhook of configuration!.webhooks) {
      const servedPath = (webhook.clientConfig as { service: { path: string } }).service.path;
      webhook.clientConfig = { url: `${target.url}${servedPath}`, caBundle };
      webhook.namespaceSelector = {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'In', values: [...target.namespaces] },
        ],
      };
    }
    return configuration!;
  });
}

/** The configurations for one namespace and a test webhook server, named `cloudbase-<namespace>`. */
export function webhookConfigurations(namespace: string, server: TestWebhookServer): KubernetesObject[] {
  return webhookConfigurationsAt({
    name: `cloudbase-${namespace}`,
    namespaces: [namespace],
    url: server.server.url,
    ca: server.ca,
  });
}

/** The smallest function Deployment, as YAML for kubectl; by default `replicas: 0` so that no pod is made. */
export function functionDeploymentYaml(
  namespace: string,
  name: string,
  annotations: Record<string, string>,
  replicas = 0,
): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    '  annotations:',
    ...lines,
    'spec:',
    `  replicas: ${replicas}`,
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: function',
    '',
  ].join('\n');
}

/**
 * Creates the configurations for `namespace` and resolves once the API server calls the webhook: it picks
 * up new configurations asynchronously, so a server-side dry run is repeated until it comes back mutated.
 * Returns the created objects, for the test to delete.
 */
export async function registerWebhooks(
  kube: Kube,
  env: ClusterEnv,
  namespace: string,
  server: TestWebhookServer,
): Promise<KubernetesObject[]> {
  return registerWebhooksAt(kube, env, {
    name: `cloudbase-${namespace}`,
    namespaces: [namespace],
    url: server.server.url,
    ca: server.ca,
  });
}

/** As registerWebhooks, for any server and several namespaces; waits until each namespace is admitted. */
export async function registerWebhooksAt(
  kube: Kube,
  env: ClusterEnv,
  target: WebhookTarget,
): Promise<KubernetesObject[]> {
  const configurations = webhookConfigurationsAt(target);
  for (const configuration of configurations) await kube.objects.create(configuration);
  try {
    for (const namespace of target.namespaces) {
      const probe = functionDeploymentYaml(namespace, 'probe', {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'configmap:probe-code',
      });
      await eventually(`the API server to call the webhook for namespace ${namespace}`, async () => {
        const result = await kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], probe, env);
        return result.code === 0 && result.stdout.includes('cloudbase-build') ? true : undefined;
      });
    }
  } catch (error) {
    for (const configuration of configurations) await deleteIfExists(kube, configuration);
    throw error;
  }
  return configurations;
}
