import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  clusterEnv,
  type ClusterEnv,
  clusterKube,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { httpsRequest } from '../testing/https-client.js';
import { admissionRequest, admissionReview, minimalFunction } from '../testing/fixtures.js';
import { functionDeploymentYaml, registerWebhooks } from '../testing/webhook-configurations.js';
import { startTestWebhookServer, type TestWebhookServer } from '../testing/webhook-server.js';
import { deleteIfExists, type Kube } from '../kube/client.js';

// Webhook caller authentication against the real kube-apiserver: cluster/up.sh gives it a client certificate
// for webhooks (its AdmissionConfiguration, cluster/lib/pki.sh) and writes that certificate's CA to
// .cluster/env as WEBHOOK_CLIENT_CA. Our webhook server runs on the host with --client-ca of that file: the
// API server's admissions go through, a caller without the certificate is refused.

/** WEBHOOK_CLIENT_CA from .cluster/env; an error saying how to get it when an older cluster lacks it. */
function webhookClientCa(): string {
  const file = new URL('../../.cluster/env', import.meta.url);
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('WEBHOOK_CLIENT_CA='));
  const path = line?.slice('WEBHOOK_CLIENT_CA='.length);
  if (path === undefined || path === '')
    throw new Error(`${file.pathname} has no WEBHOOK_CLIENT_CA: run 'npm run cluster:up' again`);
  return path;
}

describe('webhook caller authentication (--client-ca), with the real kube-apiserver as the caller', () => {
  let env: ClusterEnv;
  let kube: Kube;
  let server: TestWebhookServer;
  let configurations: KubernetesObject[] = [];
  const namespace = testNamespace('e2e-client-auth');
  const annotations = { 'cloudbase.dev/function': 'true', 'cloudbase.dev/source': 'configmap:hello-code' };

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    server = await startTestWebhookServer({ host: env.hostIp, clientCaFile: webhookClientCa() });
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    // Resolves only once a server-side dry run comes back mutated: the API server's call was authenticated.
    configurations = await registerWebhooks(kube, env, namespace, server);
  }, 120_000);

  afterAll(async () => {
    for (const configuration of configurations) await deleteIfExists(kube, configuration);
    await removeNamespace(namespace);
    await server?.stop();
  }, 300_000);

  it("admits kubectl apply through both webhooks with the API server's client certificate", async () => {
    const applied = await kubectl(
      ['apply', '-f', '-'],
      functionDeploymentYaml(namespace, 'hello', annotations),
      env,
    );
    expect(applied).toMatchObject({ code: 0 });
    const got = await kubectl(['-n', namespace, 'get', 'deployment', 'hello', '-o', 'json'], undefined, env);
    const stored = JSON.parse(got.stdout) as V1Deployment;
    expect(stored.spec?.template.spec?.initContainers?.map((c) => c.name)).toEqual(['cloudbase-build']);
  });

  it('refuses a review posted without a client certificate with 401, and says what is required', async () => {
    const response = await httpsRequest(server.server.url, {
      path: '/validate',
      body: JSON.stringify(admissionReview(admissionRequest(minimalFunction()))),
      headers: { 'content-type': 'application/json' },
      ca: server.ca,
    });
    expect(response.status).toBe(401);
    expect((response.json() as { message: string }).message).toContain(
      'a client certificate signed by the configured client CA (--client-ca) is required',
    );
  });

  it('counts the refusal, and no refusal of the API server', async () => {
    const { text } = await httpsRequest(server.server.url, { path: '/metrics', ca: server.ca });
    expect(text).toMatch(
      /cloudbase_admission_errors_total\{webhook="validate",reason="unauthenticated"\} 1\n/,
    );
    expect(text).not.toMatch(/cloudbase_admission_errors_total\{webhook="mutate",reason="unauthenticated"\}/);
    expect(text).toMatch(
      /cloudbase_admission_duration_seconds_count\{webhook="mutate",decision="patched"\} [1-9]/,
    );
  });
});
