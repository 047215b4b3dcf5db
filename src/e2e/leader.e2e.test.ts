import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { readFileSync, statSync } from 'node:fs';
import {
  clusterEnv,
  type ClusterEnv,
  clusterKube,
  eventually,
  readObject,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import type { ControllerProcess } from '../testing/controller-process.js';
import { imageFunction } from '../testing/image-function.js';
import type { Kube } from '../kube/client.js';
import { ControllerReplicas } from '../testing/controller-replicas.js';

// Leader election when the leader does not die but freezes (SIGSTOP: a stalled node, a long GC pause, a
// paused VM) and later resumes with stale caches: another replica must take over within 15 s, and the old
// one must write nothing until it holds the Lease again. Two controller processes with their own Lease in
// their own namespace, the webhooks installed for it as in src/e2e/controller.e2e.test.ts.

/** Log lines (pino `msg`) that follow a write to the API server. */
const WRITES = new Set(['child applied', 'child deleted']);

interface LogLine {
  msg?: string;
  time?: number;
}

/** The JSON log lines a controller wrote from byte `from` of its log file on. */
function logSince(file: string, from: number): LogLine[] {
  return readFileSync(file)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('leader election when the leader freezes', () => {
  let env: ClusterEnv;
  let kube: Kube;
  const namespace = testNamespace('e2e-leader');
  let replicas: ControllerReplicas;
  let frozen: ControllerProcess;
  let successor: ControllerProcess;
  /** Where the frozen replica's log stood when it was resumed. */
  let resumedAtByte = 0;

  const start = (identity: string): ControllerProcess => replicas.start(identity);
  const read = <T extends KubernetesObject>(apiVersion: string, kind: string, name: string) =>
    readObject<T>(kube, namespace, apiVersion, kind, name);
  const route = (name: string) => read('traefik.io/v1alpha1', 'IngressRoute', name);
  const holder = (): Promise<string | undefined> => replicas.holder();

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    replicas = new ControllerReplicas(env, kube, namespace);
    await replicas.installWebhooks();
    start('a');
    start('b');
    await eventually('a controller to lead', async () => ((await holder()) ? true : undefined), 30_000);
    // A function both replicas have in their caches: the drift the frozen one will find is in its route.
    await kube.objects.create(imageFunction(namespace, 'steady', `/${namespace}/steady`, 0));
    await eventually('the route of steady', () => route('steady'), 30_000);
  }, 120_000);

  afterAll(async () => {
    await replicas?.stop();
    await removeNamespace(namespace);
  }, 300_000);

  it('hands the Lease to the other replica within 15 s of the leader freezing, and the new leader routes', async () => {
    const leader = await eventually('a leader', holder);
    frozen = replicas.processes.find((c) => c.identity === leader)!;
    successor = replicas.processes.find((c) => c !== frozen)!;
    // Quiet first: a write already on the wire when the process stops would land after it resumes.
    await sleep(1_000);
    frozen.signal('SIGSTOP');
    const frozenAt = Date.now();
    await eventually(
      'the other replica to take the Lease',
      async () => ((await holder()) === successor.identity ? true : undefined),
      20_000,
      200,
    );
    expect(Date.now() - frozenAt).toBeLessThan(15_000);
    // Only the new leader can route it: the old one is frozen.
    await kube.objects.create(imageFunction(namespace, 'while-frozen', `/${namespace}/while-frozen`, 0));
    await eventually('the new leader to route the function', () => route('while-frozen'), 15_000);
  });

  it('on resuming, the old leader steps down and writes nothing, though it finds drift to repair', async () => {
    const before = await route('steady');
    expect(before).toBeDefined();
    resumedAtByte = statSync(frozen.logFile).size;
    // Drift the old leader would repair if it thought it led: its caches learn of this delete as it resumes.
    await kube.objects.delete({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: { name: 'steady', namespace },
    });
    frozen.signal('SIGCONT');
    const restored = await eventually(
      'the new leader to put the IngressRoute back',
      async () => {
        const now = await route('steady');
        return now !== undefined && now.metadata?.uid !== before?.metadata?.uid ? now : undefined;
      },
      15_000,
    );
    expect(restored.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'steady' });
    // More than a resync period (10 s): the old replica has had every chance to reconcile what it knows.
    await sleep(12_000);
    expect(await holder()).toBe(successor.identity);
    expect(frozen.child.exitCode).toBeNull();
    const lines = logSince(frozen.logFile, resumedAtByte);
    const messages = lines.map((line) => line.msg);
    expect(messages).toContain('could not renew the controller lease in time; stepping down');
    expect(messages).toContain('not leading; workers stop');
    expect(messages).not.toContain('became the leader');
    expect(lines.filter((line) => WRITES.has(line.msg ?? ''))).toEqual([]);
  });

  it('leads again once the other replica stops, and only then writes', async () => {
    // SIGTERM: the successor releases the Lease, so the resumed replica takes it at its next attempt.
    await successor.stop();
    await eventually(
      'the resumed replica to take the Lease',
      async () => ((await holder()) === frozen.identity ? true : undefined),
      15_000,
      200,
    );
    await kube.objects.create(imageFunction(namespace, 'after-resume', `/${namespace}/after-resume`, 0));
    await eventually('the resumed replica to route the function', () => route('after-resume'), 15_000);
    await eventually(
      'its log to show the write',
      async () =>
        logSince(frozen.logFile, resumedAtByte).some((l) => WRITES.has(l.msg ?? '')) ? true : undefined,
      5_000,
    );
    const lines = logSince(frozen.logFile, resumedAtByte);
    const led = lines.findIndex((line) => line.msg === 'became the leader');
    expect(led).toBeGreaterThanOrEqual(0);
    expect(lines.slice(0, led).filter((line) => WRITES.has(line.msg ?? ''))).toEqual([]);
  });
});
