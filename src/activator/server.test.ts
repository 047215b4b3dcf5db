import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createRuntimeMetrics } from '../runtime/http/metrics.js';
import type { FunctionHandler } from '../runtime/model.js';
import { startRuntime, type RunningRuntime } from '../runtime/server.js';
import { functionPodObject } from '../testing/function-pod.js';
import { PodDirectory } from './pods.js';
import { createActivatorServer } from './server.js';
import { ActivatorTally } from './tally.js';

// The activator in front of a real runtime (its function and admin servers on 127.0.0.1), as a pod it
// learns of from the pod watch: not Ready by Kubernetes' word, so the activator's own /readyz probe decides.

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const answer: FunctionHandler = async () => ({
  status: 200,
  headers: { 'content-type': 'text/plain' },
  body: Buffer.from('hello'),
});

/** A runtime whose function loads when `release()` is called; its admin /readyz says 503 until then. */
async function gatedRuntime(
  handler: FunctionHandler = answer,
): Promise<{ runtime: RunningRuntime; release: () => void }> {
  let release: () => void = () => undefined;
  const loaded = new Promise<void>((resolve) => (release = resolve));
  const runtime = await startRuntime(
    {
      workspace: '/nonexistent',
      handler: { modulePath: 'index.js' },
      signature: 'fetch',
      port: 0,
      adminPort: 0,
      functionName: 'hello',
      namespace: 'demo',
      runtime: 'nodejs22',
      timeoutMs: 5000,
      maxBodyBytes: 1024,
      logLevel: 'silent',
      drainMs: 0,
    },
    { logger, metrics: createRuntimeMetrics(), host: '127.0.0.1', load: () => loaded.then(() => handler) },
  );
  cleanups.push(() => runtime.shutdown());
  return { runtime, release };
}

function podAt(httpPort: number, adminPort: number, ready = false): V1Pod {
  return functionPodObject({
    uid: `uid-${httpPort}`,
    name: `hello-${httpPort}`,
    ip: '127.0.0.1',
    ready,
    httpPort,
    adminPort,
  });
}

async function activator(options: { maxHeld?: number; holdTimeoutMs?: number } = {}) {
  const pods = new PodDirectory();
  const tally = new ActivatorTally();
  const woken: string[] = [];
  const server: Server = createActivatorServer({
    pods,
    tally,
    logger,
    maxHeld: options.maxHeld ?? 100,
    holdTimeoutMs: options.holdTimeoutMs ?? 5000,
    wake: async (target) => void woken.push(`${target.namespace}/${target.deployment}`),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() =>
    new Promise((resolve) => server.close(resolve)).then(() => server.closeAllConnections()),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { pods, tally, woken, url };
}

const headers = { 'x-cloudbase-function': 'demo/hello', 'x-cloudbase-deployment': 'hello-deploy' };

describe('the activator', () => {
  it('holds requests until the new pod answers ready, wakes the function once, then streams the answers', async () => {
    const { runtime, release } = await gatedRuntime();
    const { pods, tally, woken, url } = await activator();
    const held = Array.from({ length: 5 }, () => fetch(`${url}/x`, { headers }));
    await waitFor(() => tally.held('demo/hello') === 5);
    expect(woken).toEqual(['demo/hello-deploy']);
    // The pod appears (an IP, not yet Ready), then its function loads.
    const adminPort = Number(new URL(runtime.adminUrl).port);
    release();
    const httpPort = Number(new URL(await runtime.ready).port);
    pods.update(podAt(httpPort, adminPort));
    const answers = await Promise.all(held);
    expect(await Promise.all(answers.map(async (r) => `${r.status} ${await r.text()}`))).toEqual(
      Array(5).fill('200 hello'),
    );
    expect(tally.read(performance.now()).functions['demo/hello']).toMatchObject({ held: 0, requests: 5 });
  });

  it('reports a request it streams to a pod not yet Ready as held, since the autoscaler cannot read that pod', async () => {
    let finish: (() => void) | undefined;
    const slow: FunctionHandler = async () => {
      await new Promise<void>((resolve) => (finish = resolve));
      return answer({} as never);
    };
    const { runtime, release } = await gatedRuntime(slow);
    release();
    const httpPort = Number(new URL(await runtime.ready).port);
    const { pods, tally, url } = await activator();
    const pending = fetch(url, { headers });
    await waitFor(() => tally.held('demo/hello') === 1);
    pods.update(podAt(httpPort, Number(new URL(runtime.adminUrl).port)));
    await waitFor(() => finish !== undefined);
    expect(tally.held('demo/hello')).toBe(0);
    expect(tally.read(performance.now()).functions['demo/hello']?.held).toBe(1);
    finish!();
    expect((await pending).status).toBe(200);
    expect(tally.read(performance.now()).functions['demo/hello']?.held).toBe(0);
  });

  it('forwards at once to a ready pod, without holding or waking', async () => {
    const { runtime, release } = await gatedRuntime();
    release();
    const httpPort = Number(new URL(await runtime.ready).port);
    const { pods, woken, url } = await activator();
    pods.update(podAt(httpPort, Number(new URL(runtime.adminUrl).port), true));
    const response = await fetch(url, { headers });
    expect([response.status, await response.text()]).toEqual([200, 'hello']);
    // One request per connection, so a proxy never reuses one the activator is closing.
    expect(response.headers.get('connection')).toBe('close');
    expect(woken).toEqual([]);
  });

  it('answers 503 with Retry-After when no pod is ready in time, or when the queue is full', async () => {
    const { url } = await activator({ maxHeld: 1, holdTimeoutMs: 300 });
    const first = fetch(url, { headers });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await fetch(url, { headers });
    expect([second.status, second.headers.get('retry-after')]).toEqual([503, '1']);
    expect(second.headers.get('connection')).toBe('close');
    expect(await second.text()).toMatch(/already has 1 requests waiting/);
    const timedOut = await first;
    expect([timedOut.status, timedOut.headers.get('retry-after')]).toEqual([503, '5']);
    expect(await timedOut.text()).toBe('function demo/hello had no ready pod within 0.3 s; retry shortly');
  });

  it('answers 404 naming the problem for a request that names no function', async () => {
    const { url } = await activator();
    const response = await fetch(url, { headers: { host: '10.0.0.1' } });
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/names no function/);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
