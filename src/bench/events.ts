// `npm run bench:events -- [--events 20000] [--rate 500] [--rate-seconds 10] [--replicas 2] [--batch 100]
// [--in-flight 8]`: events end to end on the local cluster with Cloudbase installed (hack/install.sh), as a
// publisher outside the cluster sends them: POSTed in batches to the ingest through Traefik, stored by
// JetStream, consumed by an event function's pods, each handled by a fetch handler that answers with a reply
// event carrying the event's id and its latency (from the event's `time`, set as it is sent, to the handler:
// one machine, one clock). The bench reads the replies back from JetStream, so what is counted is what the
// handler did.
// Two phases: `--events` as fast as the ingest takes them (throughput: first POST to last event handled),
// then `--rate` events per second for `--rate-seconds` (latency at that rate). Prints one JSON line last:
// {"events":N,"lost":..,"duplicates":..,"throughput_eps":..,"ingest_eps":..,"p50_ms":..,"p99_ms":..,...}.
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { connectBus } from '../bus/connect.js';
import { consumerName, eventSubject, EVENTS_STREAM } from '../contract/event-bus.js';
import { clusterEnv, clusterKube, eventually, kubectl } from '../testing/cluster.js';
import { makePublisher, postToIngest, serviceAccountToken } from '../testing/ingest.js';
import { eventFunctionYaml } from '../testing/event-function.js';
import { applyYaml, readyPodIps } from '../testing/scaling.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '500' },
    'rate-seconds': { type: 'string', default: '10' },
    replicas: { type: 'string', default: '2' },
    batch: { type: 'string', default: '100' },
    'in-flight': { type: 'string', default: '8' },
  },
});
function whole(name: keyof typeof values, min: number, max: number): number {
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new Error(`--${name} ${values[name]}: use a whole number from ${min} to ${max}`);
  return value;
}
const total = whole('events', 1, 1_000_000);
const rate = whole('rate', 1, 20_000);
const rateSeconds = whole('rate-seconds', 1, 600);
const replicas = whole('replicas', 1, 10);
const batchSize = whole('batch', 1, 1_000);
const inFlight = whole('in-flight', 1, 64);

const env = clusterEnv();
const kube = clusterKube(env);
const namespace = `bench-events-${Date.now().toString(36)}`;
const name = 'sink';
const logger = pino({ level: 'silent' });

/** Replies with the event's id and how long after its `time` the handler saw it. */
const SINK = `
export default {
  async fetch(request) {
    const id = request.headers.get('ce-id');
    const latencyMs = Date.now() - Date.parse(request.headers.get('ce-time'));
    return new Response(JSON.stringify({ id, latencyMs }), {
      status: 200,
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'done-' + id,
        'ce-source': '/sink',
        'ce-type': 'bench.done',
        'content-type': 'application/json',
      },
    });
  },
};
`;

/** The sink at a fixed `--replicas` pods (min-scale = max-scale): the bench measures those pods, not the autoscaler. */
const sinkYaml = (): string =>
  eventFunctionYaml({
    namespace,
    name,
    code: SINK,
    types: 'bench.work',
    replicas,
    annotations: { 'cloudbase.dev/min-scale': String(replicas), 'cloudbase.dev/max-scale': String(replicas) },
  });

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

await kubectl(['create', 'namespace', namespace], undefined, env);
const connection = await connectBus({ servers: env.eventsUrl, name: 'bench-events', logger }, 60_000);
const reader = `${namespace}_bench_reader`;
const jsm = await jetstreamManager(connection);
try {
  await makePublisher(namespace, 'publisher');
  const token = await serviceAccountToken(namespace, 'publisher');
  await applyYaml(sinkYaml(), env);
  await eventually(
    `${replicas} sink pods to be consuming`,
    async () => ((await readyPodIps(kube, namespace, name)).length === replicas ? true : undefined),
    180_000,
  );
  await jsm.consumers.add(EVENTS_STREAM, {
    durable_name: reader,
    filter_subjects: [eventSubject(namespace, 'bench.done')],
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.New,
  });
  const handled = new Map<string, number>();
  const latencyOf = new Map<string, number>();
  const messages = await (
    await jetstream(connection).consumers.get(EVENTS_STREAM, reader)
  ).consume({
    max_messages: 2_000,
  });
  void (async () => {
    for await (const msg of messages) {
      const { id, latencyMs } = msg.json<{ id: string; latencyMs: number }>();
      handled.set(id, (handled.get(id) ?? 0) + 1);
      latencyOf.set(id, latencyMs);
    }
  })();

  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const headers = {
    'content-type': 'application/cloudevents-batch+json',
    authorization: `Bearer ${token}`,
  };
  const accepted = new Set<string>();
  let refused = 0;
  /** POSTs one batch stamped with the time of sending; its ids count as published only on 202. */
  const send = async (ids: string[]): Promise<void> => {
    const time = new Date().toISOString();
    const body = ids.map((id) => ({ specversion: '1.0', id, source: '/bench', type: 'bench.work', time }));
    const answer = await postToIngest(namespace, headers, JSON.stringify(body), { env, agent }).catch(
      (error: unknown) => ({ status: 0, json: { message: String(error) } }),
    );
    if (answer.status === 202) for (const id of ids) accepted.add(id);
    else {
      refused += ids.length;
      console.error(`a batch was refused: ${answer.status} ${answer.json.message ?? ''}`);
    }
  };
  /** Waits for every id to be handled; on a timeout, says where the events are (the consumers' counts). */
  const allHandled = async (ids: string[], what: string): Promise<void> => {
    try {
      await eventually(
        what,
        async () => (ids.every((id) => handled.has(id)) ? true : undefined),
        180_000,
        50,
      );
    } catch (error) {
      for (const consumer of [consumerName(namespace, name), reader]) {
        const info = await jsm.consumers.info(EVENTS_STREAM, consumer).catch((e: unknown) => String(e));
        console.error(
          `consumer ${consumer}: ${JSON.stringify(typeof info === 'string' ? info : { pending: info.num_pending, ackPending: info.num_ack_pending, delivered: info.delivered, waiting: info.num_waiting })}`,
        );
      }
      throw error;
    }
  };

  // Warm-up: the ingest's token and interest caches, Traefik's connections, the pods' first pulls.
  await send(Array.from({ length: 10 }, (_, n) => `warm-${n}`));
  await allHandled(['warm-0'], 'the warm-up events to be handled');

  // Throughput: every event as fast as the ingest takes them.
  const throughputIds = Array.from({ length: total }, (_, n) => `t-${n}`);
  const batches: string[][] = [];
  for (let n = 0; n < total; n += batchSize) batches.push(throughputIds.slice(n, n + batchSize));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < batches.length) await send(batches[next++]!);
    }),
  );
  const ingested = performance.now();
  await allHandled(
    throughputIds.filter((id) => accepted.has(id)),
    `the ${total} throughput events to be handled`,
  );
  const finished = performance.now();
  console.error(
    `throughput: ${total} events ingested in ${round((ingested - started) / 1000, 2)} s, handled in ${round((finished - started) / 1000, 2)} s`,
  );

  // Latency at a steady rate: a batch every 20 ms.
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const rateIds: string[] = [];
  const sends: Promise<void>[] = [];
  const rateStart = performance.now();
  for (let tick = 0; performance.now() - rateStart < rateSeconds * 1000; tick += 1) {
    const ids = Array.from({ length: perTick }, (_, n) => `r-${tick}-${n}`);
    rateIds.push(...ids);
    sends.push(send(ids));
    const due = rateStart + (tick + 1) * tickMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  await Promise.all(sends);
  await allHandled(
    rateIds.filter((id) => accepted.has(id)),
    `the events sent at ${rate}/s to be handled`,
  );
  // Give late duplicates (redeliveries) a moment to show before they are counted.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  messages.stop();

  const published = [...accepted].filter((id) => !id.startsWith('warm-'));
  const lost = published.filter((id) => !handled.has(id)).length;
  const duplicates = published.reduce((sum, id) => sum + Math.max(0, (handled.get(id) ?? 0) - 1), 0);
  const latencies = rateIds
    .map((id) => latencyOf.get(id))
    .filter((ms): ms is number => ms !== undefined)
    .sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      events: published.length,
      lost,
      duplicates,
      refused,
      throughput_eps: round(total / ((finished - started) / 1000), 0),
      ingest_eps: round(total / ((ingested - started) / 1000), 0),
      rate_eps: round(rateIds.length / rateSeconds, 0),
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      replicas,
      batch: batchSize,
    }),
  );
  agent.destroy();
} finally {
  await jsm.consumers.delete(EVENTS_STREAM, reader).catch(() => undefined);
  await kubectl(['delete', 'namespace', namespace, '--wait=false'], undefined, env);
  await connection.close();
}
