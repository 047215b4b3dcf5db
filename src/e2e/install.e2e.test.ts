import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { V1Secret } from '@kubernetes/client-node';
import {
  clusterEnv,
  clusterKube,
  eventually,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { readRbacTable, canIRules, type Permission } from '../testing/rbac.js';
import { functionDeploymentYaml } from '../testing/webhook-configurations.js';
import { installCloudbase, uninstallCloudbase } from '../testing/install.js';

// Cloudbase installed as a user installs it: `kubectl apply -k` of manifests/overlays/local (hack/install.sh
// pins the image tags built here), two replicas in cloudbase-system serving the webhooks the real API server
// calls through the cloudbase-webhook Service, with certificates Cloudbase makes and rotates itself.

const REPO = new URL('../../', import.meta.url).pathname;
const env = clusterEnv();
const kube = clusterKube(env);
const namespace = testNamespace('e2e-install');
const SYSTEM = 'cloudbase-system';

/** What a NATS server's `/jsz` says of the JetStream cluster it is in. */
interface JetStreamCluster {
  name: string;
  leader?: string;
  cluster_size: number;
}

// Lifetimes short enough to see a serving certificate and a CA rotate within the test: the serving
// certificate is renewed at about 76 s, the CA at about 152 s (a third of the lifetime left).
const SHORT_LIFETIMES = '--ca-validity-seconds=240 --cert-validity-seconds=120';

const install = (args = ''): Promise<void> => installCloudbase({ CLOUDBASE_INSTALL_ARGS: args });
const uninstall = uninstallCloudbase;

/** examples/hello, moved into the test's namespace and route. */
function helloExample(name: string): string {
  return readFileSync(`${REPO}examples/hello/function.yaml`, 'utf8')
    .replaceAll('namespace: default', `namespace: ${namespace}`)
    .replaceAll('name: hello-code', `name: ${name}-code`)
    .replaceAll('configmap:hello-code', `configmap:${name}-code`)
    .replaceAll('name: hello\n', `name: ${name}\n`)
    .replaceAll('cloudbase.dev/route: /hello', `cloudbase.dev/route: /${namespace}/${name}`);
}

async function answers(name: string, who: string): Promise<string | undefined> {
  const response = await fetch(`${env.traefikUrl}/${namespace}/${name}?name=${who}`);
  const body = await response.text();
  return response.status === 200 ? body : undefined;
}

async function secretCertificate(name: string): Promise<string | undefined> {
  try {
    const secret: V1Secret = await kube.core.readNamespacedSecret({ name, namespace: SYSTEM });
    return secret.data?.['tls.crt'];
  } catch {
    return undefined;
  }
}

const DRY_RUN_FUNCTION = (name: string): string =>
  functionDeploymentYaml(namespace, name, {
    'cloudbase.dev/function': 'true',
    'cloudbase.dev/source': `configmap:${name}-code`,
    'cloudbase.dev/route': `/${namespace}/${name}`,
  });

async function readyReplicas(): Promise<string> {
  const result = await kubectl([
    '-n',
    SYSTEM,
    'get',
    'deployment',
    'cloudbase',
    '-o',
    'jsonpath={.status.readyReplicas}',
  ]);
  return result.stdout;
}

/** `kubectl auth can-i` as Cloudbase's ServiceAccount: its output, `yes` or `no` or the `--list` table. */
async function canI(args: string[], where: string): Promise<{ code: number; stdout: string }> {
  return kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:${SYSTEM}:cloudbase`, '-n', where]);
}

describe('kubectl apply -k manifests/ (local overlay)', () => {
  beforeAll(async () => {
    await uninstall();
    await kubectl(['create', 'namespace', namespace]);
    await install(SHORT_LIFETIMES);
  }, 400_000);

  afterAll(async () => {
    await removeNamespace(namespace);
    await uninstall();
  }, 400_000);

  it('reaches Ready with both replicas, and the example function is routable through Traefik', async () => {
    const ready = await readyReplicas();
    expect(ready).toBe('2');
    const applied = await kubectl(['apply', '-f', '-'], helloExample('hello'));
    expect(applied.stderr).toBe('');
    const body = await eventually('hello through Traefik', () => answers('hello', 'install'), 120_000, 500);
    expect(JSON.parse(body)).toEqual({ hello: 'install' });
  }, 180_000);

  it('runs the event bus: three NATS servers form one JetStream cluster, which keeps a leader when one goes', async () => {
    // Each server's monitoring endpoint, through the API server's pod proxy (the host has no route to pods).
    const jsz = async (pod: string): Promise<JetStreamCluster> => {
      const raw = await kubectl(['get', '--raw', `/api/v1/namespaces/${SYSTEM}/pods/${pod}:8222/proxy/jsz`]);
      if (raw.code !== 0) throw new Error(`jsz of ${pod}: ${raw.stderr}`);
      return (JSON.parse(raw.stdout) as { meta_cluster: JetStreamCluster }).meta_cluster;
    };
    const servers = ['cloudbase-nats-0', 'cloudbase-nats-1', 'cloudbase-nats-2'];
    const agreed = async (): Promise<string | undefined> => {
      const views = await Promise.all(servers.map((pod) => jsz(pod).catch(() => undefined)));
      const leaders = new Set(views.map((view) => view?.leader));
      const [leader] = [...leaders];
      return leaders.size === 1 && leader && views.every((view) => view?.cluster_size === 3)
        ? leader
        : undefined;
    };
    const leader = await eventually(
      'the three servers to agree on a JetStream meta leader',
      agreed,
      120_000,
      1000,
    );
    expect(servers).toContain(leader);

    await kubectl(['-n', SYSTEM, 'delete', 'pod', leader, '--wait=false']);
    const others = servers.filter((pod) => pod !== leader);
    const next = await eventually(
      'the two others to elect a new leader',
      async () => {
        const views = await Promise.all(others.map((pod) => jsz(pod).catch(() => undefined)));
        const leaders = new Set(views.map((view) => view?.leader));
        const [elected] = [...leaders];
        return leaders.size === 1 && elected && elected !== leader ? elected : undefined;
      },
      60_000,
      500,
    );
    expect(others).toContain(next);
    // The deleted server comes back into the same cluster.
    await kubectl(['-n', SYSTEM, 'rollout', 'status', 'statefulset/cloudbase-nats', '--timeout=120s']);
    expect(await eventually('the three servers to agree again', agreed, 120_000, 1000)).toBeDefined();
  }, 400_000);

  it("its ServiceAccount can do nothing beyond the README's RBAC table", async () => {
    const listed = readRbacTable(readFileSync(`${REPO}README.md`, 'utf8'));
    expect(listed.length).toBeGreaterThan(5);
    const allowed: Permission[] = [];
    for (const where of [SYSTEM, namespace]) {
      const result = await canI(['--list'], where);
      expect(result.code).toBe(0);
      allowed.push(...canIRules(result.stdout));
    }
    const beyond = allowed.filter(
      (rule) =>
        !rule.verbs.every((verb) =>
          listed.some((entry) => entry.resource === rule.resource && entry.verbs.includes(verb)),
        ),
    );
    expect(beyond).toEqual([]);
    // And what it needs is really there: a write it makes, and one it must not make.
    const canPatchRoutes = await canI(['patch', 'ingressroutes.traefik.io'], namespace);
    expect(canPatchRoutes.stdout.trim()).toBe('yes');
    const canReadOtherSecrets = await canI(['get', 'secrets'], namespace);
    expect(canReadOtherSecrets.stdout.trim()).toBe('no');
  }, 60_000);

  it('no admission fails while certificates rotate, a Cloudbase pod is deleted and the Deployment rolls', async () => {
    const firstCa = await secretCertificate('cloudbase-webhook-ca');
    expect(firstCa).toBeDefined();
    const servingSeen = new Set<string>();
    const casSeen = new Set<string>([firstCa!]);
    const failures: string[] = [];
    let attempts = 0;
    let deletedPod = '';
    let restarted = false;
    const started = Date.now();
    let servedByNewCaSince: number | undefined;
    // Until the CA has rotated and a serving certificate of the new CA has been served for 20 s, at most 280 s.
    while (Date.now() - started < 280_000) {
      const result = await kubectl(
        ['apply', '--dry-run=server', '-f', '-'],
        DRY_RUN_FUNCTION(`dry-${attempts % 3}`),
      );
      attempts += 1;
      if (result.code !== 0) failures.push(`${new Date().toISOString()} ${result.stderr.trim()}`);
      if (attempts % 10 === 0) {
        const [ca, serving] = await Promise.all([
          secretCertificate('cloudbase-webhook-ca'),
          secretCertificate('cloudbase-webhook-tls'),
        ]);
        if (ca !== undefined) casSeen.add(ca);
        if (serving !== undefined) servingSeen.add(serving);
        if (casSeen.size > 1 && servedByNewCaSince === undefined) servedByNewCaSince = Date.now();
      }
      if (deletedPod === '' && Date.now() - started > 40_000) {
        const pods = await kubectl([
          '-n',
          SYSTEM,
          'get',
          'pods',
          '-l',
          'app.kubernetes.io/name=cloudbase',
          '-o',
          'name',
        ]);
        deletedPod = pods.stdout.split('\n')[0] ?? '';
        await kubectl(['-n', SYSTEM, 'delete', deletedPod, '--wait=false']);
      }
      if (!restarted && Date.now() - started > 90_000) {
        restarted = true;
        const rollout = await kubectl(['-n', SYSTEM, 'rollout', 'restart', 'deployment/cloudbase']);
        expect(rollout.code).toBe(0);
      }
      // 30 s after the new CA appeared its serving certificate (issued 10 s after) has been served 20 s.
      if (servedByNewCaSince !== undefined && Date.now() - servedByNewCaSince > 30_000) break;
    }
    expect({ failures, attempts: attempts > 100 }).toEqual({ failures: [], attempts: true });
    expect(deletedPod).toMatch(/^pod\/cloudbase-/);
    expect(casSeen.size).toBeGreaterThanOrEqual(2);
    expect(servingSeen.size).toBeGreaterThanOrEqual(2);
    expect(restarted).toBe(true);
    // Both replicas are back, serving a certificate the current caBundle trusts (their readiness says so).
    await eventually(
      'two ready replicas after the deletion',
      async () => {
        const ready = await readyReplicas();
        return ready === '2' ? true : undefined;
      },
      120_000,
      1_000,
    );
    // No route was lost on the way.
    expect(await answers('hello', 'rolled')).toBe('{"hello":"rolled"}');
  }, 420_000);

  it('uninstall leaves functions serving; installing again routes new functions', async () => {
    await uninstall();
    // The function's children belong to its Deployment, not to Cloudbase: the route keeps answering.
    expect(await answers('hello', 'after-uninstall')).toBe('{"hello":"after-uninstall"}');
    await install();
    const applied = await kubectl(['apply', '-f', '-'], helloExample('hello-again'));
    expect(applied.stderr).toBe('');
    const body = await eventually(
      'the new function through Traefik',
      () => answers('hello-again', 'again'),
      120_000,
      500,
    );
    expect(JSON.parse(body)).toEqual({ hello: 'again' });
    expect(await answers('hello', 'still')).toBe('{"hello":"still"}');
  }, 600_000);
});
