// `npm run bench:autoscale -- --cycles C --clients M`: through Traefik, C cycles of idle (at zero) → M
// concurrent clients for --hold-seconds → stop → idle until zero, on a function with concurrency 10 and
// max-scale 5 whose handler takes 50 ms, on the local cluster with Cloudbase installed (hack/install.sh).
// Then the same load on that function warm and on a fixed two-pod one (min-scale = max-scale = 2): their p99
// latencies' ratio. Windows are shortened through the annotations (scale-window 10s, scale-to-zero-after
// 5s) so a cycle takes seconds rather than minutes; the decisions are the product's. Prints one JSON line
// last: {"cycles":..,"requests":..,"failed":..,"scale_up_s":..,"peak_replicas":..,"to_zero_s":..,"warm_p99_ratio":..}
// where scale_up_s is the slowest, over the cycles, from the load step to more than one pod requested.
import { parseArgs } from 'node:util';
import { clusterEnv, clusterKube, eventually, kubectl } from '../testing/cluster.js';
import { applyYaml, replicasOf, slowFunctionYaml } from '../testing/scaling.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '5' },
    clients: { type: 'string', default: '30' },
    'hold-seconds': { type: 'string', default: '15' },
  },
});
const whole = (name: string, value: string, max: number): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw new Error(`--${name} ${value}: use a whole number from 1 to ${max}`);
  return n;
};
const cycles = whole('cycles', values.cycles, 100);
const clients = whole('clients', values.clients, 500);
const holdMs = whole('hold-seconds', values['hold-seconds'], 600) * 1000;
const env = clusterEnv();
const kube = clusterKube(env);
const namespace = `bench-autoscale-${Date.now().toString(36)}`;
const SCALING = {
  'cloudbase.dev/concurrency': '10',
  'cloudbase.dev/max-scale': '5',
  'cloudbase.dev/scale-window': '10s',
  'cloudbase.dev/scale-to-zero-after': '5s',
};
const url = (name: string): string => `${env.traefikUrl}/${namespace}/${name}`;

/** M clients sending requests back to back until stopped; every answer's status and latency. */
function traffic(target: string) {
  let running = true;
  let requests = 0;
  let failed = 0;
  const latencies: number[] = [];
  const client = async (): Promise<void> => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(target);
        await response.arrayBuffer();
        if (response.status !== 200) failed += 1;
      } catch {
        failed += 1;
      }
      requests += 1;
      latencies.push(performance.now() - started);
    }
  };
  const done = Promise.all(Array.from({ length: clients }, client));
  return {
    async stop() {
      running = false;
      await done;
      return { requests, failed, latencies };
    },
  };
}

const p99 = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? NaN;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const replicas = async (name: string): Promise<number> => (await replicasOf(kube, namespace, name)).spec;

await kubectl(['create', 'namespace', namespace], undefined, env);
let requests = 0;
let failed = 0;
let peak = 0;
const scaleUps: number[] = [];
const toZeros: number[] = [];
let ratio = NaN;
try {
  await applyYaml(slowFunctionYaml(namespace, 'auto', SCALING, { delayMs: 50 }), env);
  const fixed = { ...SCALING, 'cloudbase.dev/min-scale': '2', 'cloudbase.dev/max-scale': '2' };
  await applyYaml(slowFunctionYaml(namespace, 'fixed', fixed, { delayMs: 50, replicas: 2 }), env);
  for (const name of ['auto', 'fixed'])
    await eventually(
      `${name} to answer`,
      async () => ((await fetch(url(name))).status === 200 ? true : undefined),
      180_000,
    );
  for (let cycle = 1; cycle <= cycles; cycle++) {
    await eventually(
      'auto to be at zero',
      async () => ((await replicas('auto')) === 0 ? true : undefined),
      180_000,
      200,
    );
    const load = traffic(url('auto'));
    const started = performance.now();
    let scaledUp: number | undefined;
    while (performance.now() - started < holdMs) {
      const now = await replicas('auto');
      peak = Math.max(peak, now);
      if (scaledUp === undefined && now > 1) scaledUp = (performance.now() - started) / 1000;
      await sleep(100);
    }
    const result = await load.stop();
    const stopped = performance.now();
    requests += result.requests;
    failed += result.failed;
    if (scaledUp !== undefined) scaleUps.push(scaledUp);
    await eventually(
      'auto to scale to zero',
      async () => ((await replicas('auto')) === 0 ? true : undefined),
      300_000,
      200,
    );
    toZeros.push((performance.now() - stopped) / 1000);
    console.error(
      `cycle ${cycle}: ${result.requests} requests, ${result.failed} failed, more pods after ${scaledUp?.toFixed(2) ?? 'never'} s, zero ${toZeros.at(-1)!.toFixed(1)} s after the load`,
    );
  }
  // Warm: the autoscaled function at the scale this load gives it, against the fixed one, one after the other.
  const warmup = traffic(url('auto'));
  await sleep(holdMs);
  await warmup.stop();
  const auto = traffic(url('auto'));
  await sleep(holdMs);
  const autoPods = await replicas('auto');
  const autoResult = await auto.stop();
  const fixedLoad = traffic(url('fixed'));
  await sleep(holdMs);
  const fixedResult = await fixedLoad.stop();
  ratio = p99(autoResult.latencies) / p99(fixedResult.latencies);
  console.error(
    `warm p99: autoscaled ${p99(autoResult.latencies).toFixed(1)} ms at ${autoPods} pods, fixed ${p99(fixedResult.latencies).toFixed(1)} ms at 2 pods`,
  );
  requests += autoResult.requests + fixedResult.requests;
  failed += autoResult.failed + fixedResult.failed;
} finally {
  await kubectl(['delete', 'namespace', namespace, '--wait=false'], undefined, env);
}
const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const round = (n: number | null, digits = 2): number | null =>
  n === null || Number.isNaN(n) ? null : Math.round(n * 10 ** digits) / 10 ** digits;
console.log(
  JSON.stringify({
    cycles,
    requests,
    failed,
    scale_up_s: scaleUps.length < cycles ? null : round(Math.max(...scaleUps)),
    peak_replicas: peak,
    to_zero_s: round(median(toZeros), 1),
    warm_p99_ratio: round(ratio),
  }),
);
