import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  clusterEnv,
  type ClusterEnv,
  clusterKube,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { startTestWebhookServer, type TestWebhookServer } from '../testing/webhook-server.js';
import { httpsRequest } from '../testing/https-client.js';
import {
  functionDeploymentYaml as deploymentYaml,
  registerWebhooks,
} from '../testing/webhook-configurations.js';
import { deleteIfExists, type Kube } from '../kube/client.js';

// Our webhook server runs on the host; the real kube-apiserver in the node's namespace calls it over TLS,
// trusting the CA from `cloudbase certs`. The webhook configurations are the ones in manifests/, pointed at
// the host and narrowed to this test's namespace.

describe('the webhooks, called by the real kube-apiserver over TLS', () => {
  let env: ClusterEnv;
  let kube: Kube;
  let server: TestWebhookServer;
  let configurations: KubernetesObject[];
  const namespace = testNamespace('e2e-webhooks');
  const minimal = { 'cloudbase.dev/function': 'true', 'cloudbase.dev/source': 'configmap:hello-code' };

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    server = await startTestWebhookServer({ host: env.hostIp });
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    configurations = await registerWebhooks(kube, env, namespace, server);
  }, 120_000);

  afterAll(async () => {
    for (const configuration of configurations ?? []) await deleteIfExists(kube, configuration);
    await removeNamespace(namespace);
    await server?.stop();
  }, 300_000);

  it('stores the mutated Deployment on kubectl apply', async () => {
    const applied = await kubectl(['apply', '-f', '-'], deploymentYaml(namespace, 'hello', minimal), env);
    expect(applied).toMatchObject({ code: 0 });
    const got = await kubectl(['-n', namespace, 'get', 'deployment', 'hello', '-o', 'json'], undefined, env);
    const stored = JSON.parse(got.stdout) as V1Deployment;
    expect(stored.metadata?.labels).toMatchObject({
      'cloudbase.dev/function': 'hello',
      'app.kubernetes.io/managed-by': 'cloudbase',
    });
    expect(stored.spec?.selector.matchLabels).toEqual({ 'cloudbase.dev/function': 'hello' });
    const podSpec = stored.spec!.template.spec!;
    expect(podSpec.initContainers?.map((c) => c.name)).toEqual(['cloudbase-build']);
    const container = podSpec.containers.find((c) => c.name === 'function')!;
    expect(container.image).toBe('registry.test/cloudbase/runtime-nodejs22:1.0.0');
    expect(container.command).toEqual(['cloudbase-runtime', 'serve']);
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false });
  });

  it('changes nothing when the same Deployment is applied again', async () => {
    const first = await kubectl(
      ['-n', namespace, 'get', 'deployment', 'hello', '-o', 'jsonpath={.metadata.generation}'],
      undefined,
      env,
    );
    const again = await kubectl(['apply', '-f', '-'], deploymentYaml(namespace, 'hello', minimal), env);
    expect(again.stdout).toContain('unchanged');
    const second = await kubectl(
      ['-n', namespace, 'get', 'deployment', 'hello', '-o', 'jsonpath={.metadata.generation}'],
      undefined,
      env,
    );
    expect(second.stdout).toBe(first.stdout);
  });

  it("fails kubectl apply of a broken function with the webhook's own message", async () => {
    const result = await kubectl(
      ['apply', '-f', '-'],
      deploymentYaml(namespace, 'broken', {
        ...minimal,
        'cloudbase.dev/runtime': 'python3',
        'cloudbase.dev/route': 'no-slash',
      }),
      env,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'cloudbase.dev/runtime="python3" is not a supported runtime; use one of nodejs22, nodejs20, nodejs24',
    );
    expect(result.stderr).toContain('cloudbase.dev/route="no-slash" does not start with \'/\'');
    const stored = await kubectl(['-n', namespace, 'get', 'deployment', 'broken'], undefined, env);
    expect(stored.code).not.toBe(0);
  });

  it('shows the warning about an unknown cloudbase.dev key in kubectl output', async () => {
    const result = await kubectl(
      ['apply', '-f', '-'],
      deploymentYaml(namespace, 'warned', { ...minimal, 'cloudbase.dev/runtim': 'nodejs20' }),
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      'unknown annotation "cloudbase.dev/runtim" is ignored; did you mean "cloudbase.dev/runtime"?',
    );
  });

  it('works with kubectl apply --dry-run=server and stores nothing', async () => {
    const result = await kubectl(
      ['apply', '--dry-run=server', '-o', 'json', '-f', '-'],
      deploymentYaml(namespace, 'dry', minimal),
      env,
    );
    expect(result.code).toBe(0);
    const object = JSON.parse(result.stdout) as V1Deployment;
    expect(object.spec?.template.spec?.initContainers?.map((c) => c.name)).toEqual(['cloudbase-build']);
    expect((await kubectl(['-n', namespace, 'get', 'deployment', 'dry'], undefined, env)).code).not.toBe(0);
  });

  it('is never called for a Deployment without the opt-in annotation (matchConditions)', async () => {
    const before = await reviewCount(server);
    const plain = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: plain',
      `  namespace: ${namespace}`,
      '  annotations: { example.com/owner: team-a }',
      'spec:',
      '  replicas: 0',
      '  selector: { matchLabels: { app: plain } }',
      '  template:',
      '    metadata: { labels: { app: plain } }',
      '    spec: { containers: [{ name: web, image: registry.local/cloudbase/pause:3.10 }] }',
      '',
    ].join('\n');
    expect((await kubectl(['apply', '-f', '-'], plain, env)).code).toBe(0);
    expect(await reviewCount(server)).toBe(before);
  });
});

async function reviewCount(server: TestWebhookServer): Promise<number> {
  const { text } = await httpsRequest(server.server.url, { path: '/metrics', ca: server.ca });
  return [...text.matchAll(/^cloudbase_admission_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}
