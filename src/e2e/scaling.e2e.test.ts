import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  clusterEnv,
  clusterKube,
  eventually,
  followLogs,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import {
  activatorAnnouncements,
  applyYaml,
  postAnnouncement,
  load,
  readyPodIps,
  replicasOf,
  slowFunctionYaml,
  traefikServers,
} from '../testing/scaling.js';
import { routedFunctionSpec } from '../testing/specs.js';
import { reinstallCloudbase, uninstallCloudbase } from '../testing/install.js';

// Request-driven scaling on the local cluster with Cloudbase installed as a user installs it (hack/install.sh):
// the autoscaler in the leading controller, the activator Deployment, Traefik in front. Windows are short
// through the annotations: a 6 s stable window, 3 s to zero.

const env = clusterEnv();
const kube = clusterKube(env);
const namespace = testNamespace('e2e-scaling');
const SHORT = { 'cloudbase.dev/scale-window': '6s', 'cloudbase.dev/scale-to-zero-after': '3s' };
/** The spec of one of this test's functions, as the controller reads it (Traefik names its service from it). */
const specOf = (name: string) =>
  routedFunctionSpec(`${namespace}/${name}`, { 'cloudbase.dev/route': `/${namespace}/${name}` });
const url = (name: string): string => `${env.traefikUrl}/${namespace}/${name}`;

async function status(name: string): Promise<number> {
  const response = await fetch(url(name));
  await response.arrayBuffer();
  return response.status;
}

/** `200`, or the status with when it came and what it said, so that a failure shows which hop refused. */
async function outcome(name: string): Promise<string> {
  const started = Date.now();
  const response = await fetch(url(name));
  const body = await response.text();
  if (response.status === 200) return '200';
  return `${response.status} after ${Date.now() - started} ms: ${body.slice(0, 160)}`;
}

async function atZero(name: string, timeoutMs = 120_000): Promise<void> {
  await eventually(
    `${name} to scale to zero`,
    async () =>
      (await replicasOf(kube, namespace, name)).spec === 0 &&
      (await readyPodIps(kube, namespace, name)).length === 0
        ? true
        : undefined,
    timeoutMs,
    250,
  );
}

describe('scaling', () => {
  beforeAll(async () => {
    await reinstallCloudbase();
    await kubectl(['create', 'namespace', namespace]);
  }, 700_000);

  afterAll(async () => {
    await removeNamespace(namespace);
    await uninstallCloudbase();
  }, 400_000);

  it('takes an idle function to zero, and a request then answers 200 with the function at one pod', async () => {
    await applyYaml(slowFunctionYaml(namespace, 'idle', SHORT), env);
    await eventually(
      'idle to answer',
      async () => ((await status('idle')) === 200 ? true : undefined),
      180_000,
    );
    await atZero('idle');
    // Confirmed at zero: its route leads to the activator only.
    const servers = await traefikServers(kube, env, specOf('idle'));
    expect(servers.every((urls) => urls.length > 0)).toBe(true);
    expect(await status('idle')).toBe(200);
    expect((await replicasOf(kube, namespace, 'idle')).spec).toBe(1);
  }, 300_000);

  it('hears a waking pod announce itself in every activator, and refuses an announcement it cannot verify', async () => {
    await atZero('idle');
    const before = await activatorAnnouncements(kube, env);
    expect(before.size).toBe(2);
    expect(await status('idle')).toBe(200);
    // Each replica verified it on its own: one got it through the Service, the other from that one.
    const heard = (counts: Map<string, number> | undefined): number =>
      (counts?.get('202') ?? 0) + (counts?.get('200') ?? 0);
    await eventually(
      'every activator to have verified the waking pod',
      async () => {
        const after = await activatorAnnouncements(kube, env);
        return [...before].every(([pod, counts]) => heard(after.get(pod)) > heard(counts)) ? true : undefined;
      },
      10_000,
    );

    const pods = await kube.core.listNamespacedPod({
      namespace,
      labelSelector: 'cloudbase.dev/function=idle',
    });
    const pod = pods.items.find((p) => p.status?.podIP !== undefined)!;
    const claim = (uid: string): string => JSON.stringify({ uid, ip: pod.status!.podIP });
    // Without an audience, a token for the API server itself.
    const token = async (audience?: string): Promise<string> => {
      const args = ['-n', namespace, 'create', 'token', 'default', '--duration', '10m'];
      if (audience !== undefined) args.push('--audience', audience);
      const bound = ['--bound-object-kind', 'Pod', '--bound-object-name', pod.metadata!.name!];
      const result = await kubectl([...args, ...bound]);
      expect(result.stderr).toBe('');
      return result.stdout.trim();
    };
    const own = await token('activator.cloudbase.dev');
    const forged = await postAnnouncement(
      kube,
      env,
      `Bearer ${own}`,
      claim('0e7a1b2c-0000-4000-8000-000000000000'),
    );
    expect(forged.status).toBe(403);
    expect(forged.message).toContain(`the token is pod ${namespace}/${pod.metadata!.name}'s`);
    const apiToken = await token();
    const wrongAudience = await postAnnouncement(kube, env, `Bearer ${apiToken}`, claim(pod.metadata!.uid!));
    expect(wrongAudience.status).toBe(403);
    expect(wrongAudience.message).toContain('did not authenticate');
    expect((await postAnnouncement(kube, env, undefined, claim(pod.metadata!.uid!))).status).toBe(401);
  }, 300_000);

  it('answers 50 concurrent requests to a function at zero, all 200', async () => {
    await applyYaml(slowFunctionYaml(namespace, 'burst', SHORT, { delayMs: 50 }), env);
    await eventually(
      'burst to answer',
      async () => ((await status('burst')) === 200 ? true : undefined),
      180_000,
    );
    await atZero('burst');
    const statuses = await Promise.all(Array.from({ length: 50 }, () => status('burst')));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 300_000);

  it('raises replicas up to max-scale under load above the target, and lowers them when it stops', async () => {
    const annotations = { ...SHORT, 'cloudbase.dev/concurrency': '1', 'cloudbase.dev/max-scale': '3' };
    await applyYaml(slowFunctionYaml(namespace, 'busy', annotations, { delayMs: 200 }), env);
    await eventually(
      'busy to answer',
      async () => ((await status('busy')) === 200 ? true : undefined),
      180_000,
    );
    const traffic = load(url('busy'), 8);
    try {
      await eventually(
        'busy to reach max-scale 3',
        async () => ((await replicasOf(kube, namespace, 'busy')).spec === 3 ? true : undefined),
        60_000,
      );
      // Never above max-scale, however long the load lasts.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect((await replicasOf(kube, namespace, 'busy')).spec).toBe(3);
    } finally {
      const { statuses, failures } = await traffic.stop();
      expect({ statuses: [...statuses.keys()], failures }).toEqual({ statuses: [200], failures: [] });
    }
    await eventually(
      'busy to scale down once the load stopped',
      async () => ((await replicasOf(kube, namespace, 'busy')).spec <= 1 ? true : undefined),
      90_000,
    );
  }, 400_000);

  it('never moves a function with min-scale = max-scale, nor an autoscaled one that kubectl apply gives another count', async () => {
    const fixed = { ...SHORT, 'cloudbase.dev/min-scale': '2', 'cloudbase.dev/max-scale': '2' };
    await applyYaml(slowFunctionYaml(namespace, 'fixed', fixed), env);
    await eventually(
      'fixed to have 2 ready pods',
      async () => ((await replicasOf(kube, namespace, 'fixed')).ready === 2 ? true : undefined),
      180_000,
    );
    // Two stable windows, idle: still 2.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(await replicasOf(kube, namespace, 'fixed')).toEqual({ spec: 2, ready: 2 });

    await atZero('idle');
    await applyYaml(slowFunctionYaml(namespace, 'idle', SHORT, { replicas: 1 }), env);
    expect((await replicasOf(kube, namespace, 'idle')).spec).toBe(0);
  }, 300_000);

  // Deleted as a drain, an eviction or a rollout deletes it: SIGTERM, then the activator drains (not ready,
  // still serving while the proxies catch up). Requests at once and over the drain all get answered.
  it('still answers a function at zero while one activator pod is being deleted', async () => {
    await atZero('idle');
    const activators = await kube.core.listNamespacedPod({
      namespace: 'cloudbase-system',
      labelSelector: 'app.kubernetes.io/name=cloudbase-activator',
    });
    const victim = activators.items[0]!.metadata!.name!;
    const victimLog = followLogs('cloudbase-system', victim, env);
    await kubectl(['-n', 'cloudbase-system', 'delete', 'pod', victim, '--wait=false']);
    const delayed = (ms: number) =>
      new Promise((resolve) => setTimeout(resolve, ms)).then(() => outcome('idle'));
    const outcomes = await Promise.all([
      ...Array.from({ length: 10 }, () => outcome('idle')),
      ...Array.from({ length: 10 }, (_, i) => delayed((i + 1) * 500)),
    ]);
    const failures = outcomes.filter((o) => o !== '200');
    const said = victimLog.stop();
    expect(failures.length === 0 ? [] : [...failures, `the deleted activator's log:\n${said}`]).toEqual([]);
  }, 300_000);

  // A crash: the pod object goes at once and the kubelet kills the process within its 2 s minimum grace.
  // Requests sent after the kill must all be answered: the dying activator refuses new connections at
  // once (a settled peer exists), and a connection to it once its network is gone times out in 500 ms;
  // either way Traefik's retry sends the request on. The function loads slowly, so all of them go through
  // the activators.
  it('answers every request sent after one activator pod is force-deleted while its function is at zero', async () => {
    await kubectl([
      '-n',
      'cloudbase-system',
      'rollout',
      'status',
      'deployment/cloudbase-activator',
      '--timeout=120s',
    ]);
    await applyYaml(slowFunctionYaml(namespace, 'sleepy', SHORT, { loadDelayMs: 3000 }), env);
    await eventually(
      'sleepy to answer',
      async () => ((await status('sleepy')) === 200 ? true : undefined),
      180_000,
    );
    await atZero('sleepy');
    await eventually(
      'every Traefik replica to route sleepy to both activators',
      async () => {
        const servers = await traefikServers(kube, env, specOf('sleepy'));
        return servers.length >= 2 && servers.every((urls) => urls.length === 2) ? true : undefined;
      },
      60_000,
    );
    // Each activator has known the other longer than its 5 s settling time.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const activators = await kube.core.listNamespacedPod({
      namespace: 'cloudbase-system',
      labelSelector: 'app.kubernetes.io/name=cloudbase-activator',
    });
    const victim = activators.items[0]!.metadata!.name!;
    const victimLog = followLogs('cloudbase-system', victim, env);
    const killed = await kubectl([
      '-n',
      'cloudbase-system',
      'delete',
      'pod',
      victim,
      '--force',
      '--grace-period=0',
    ]);
    expect(killed.code).toBe(0);
    // Past the kubelet's reaction to the deletion: a request it had already accepted was in flight there.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const delayed = (ms: number) =>
      new Promise((resolve) => setTimeout(resolve, ms)).then(() => outcome('sleepy'));
    const outcomes = await Promise.all([
      ...Array.from({ length: 10 }, () => outcome('sleepy')),
      ...Array.from({ length: 10 }, (_, i) => delayed((i + 1) * 300)),
    ]);
    // On a failure, what the killed activator said last (how it shut down) is part of the report.
    const failures = outcomes.filter((o) => o !== '200');
    const said = victimLog.stop();
    expect(failures.length === 0 ? [] : [...failures, `the killed activator's log:\n${said}`]).toEqual([]);
  }, 300_000);

  it('routes a warm function straight to its pods: the activator is not among its servers', async () => {
    const traffic = load(url('idle'), 2);
    try {
      const pods = await eventually(
        'idle to serve from its pod',
        async () => {
          const ips = await readyPodIps(kube, namespace, 'idle');
          if (ips.length === 0) return undefined;
          const wanted = ips.map((ip) => `http://${ip}:8080`).sort();
          const servers = await traefikServers(kube, env, specOf('idle'));
          return servers.length > 0 &&
            servers.every((urls) => JSON.stringify(urls) === JSON.stringify(wanted))
            ? wanted
            : undefined;
        },
        60_000,
      );
      expect(pods.length).toBeGreaterThan(0);
    } finally {
      const { statuses, failures } = await traffic.stop();
      expect({ statuses: [...statuses.keys()], failures }).toEqual({ statuses: [200], failures: [] });
    }
  }, 300_000);
});
