/**
 * Event functions on the local cluster, with Cloudbase installed as a user installs it (its NATS servers
 * and the controller's --events-url): the controller makes the function's consumer from its annotations,
 * the webhook makes its pods consumers, and every event published reaches the handler, through the kill of
 * a pod in the middle of the stream (at least once: none lost). The handler answers each event with a reply
 * event, which the test reads back from JetStream to know what was handled. Deleting the function deletes
 * its consumer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { connectBus } from '../bus/connect.js';
import { consumerNames } from '../bus/streams.js';
import { consumerName, eventSubject, EVENTS_STREAM, replaySubject } from '../contract/event-bus.js';
import { publish } from '../bus/publish.js';
import {
  clusterEnv,
  clusterKube,
  eventually,
  followLogs,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { eventFunctionYaml } from '../testing/event-function.js';
import { applyYaml, readyPodIps, replicasOf, slowFunctionYaml } from '../testing/scaling.js';
import { INGEST_HOST, postToIngest, serviceAccountToken, type IngestAnswer } from '../testing/ingest.js';
import { reinstallCloudbase, uninstallCloudbase } from '../testing/install.js';

const env = clusterEnv();
const kube = clusterKube(env);
const namespace = testNamespace('e2e-events');
const logger = pino({ level: 'silent' });
let connection: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

/**
 * A fetch handler that takes `delayMs` over each event and answers it with a reply event `e2e.handled`
 * carrying the event's id.
 */
const workerCode = (delayMs: number): string => `
export default {
  async fetch(request) {
    const id = request.headers.get('ce-id');
    await new Promise((resolve) => setTimeout(resolve, ${delayMs}));
    return new Response(JSON.stringify({ id }), {
      status: 200,
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'handled-' + id,
        'ce-source': '/worker',
        'ce-type': 'e2e.handled',
        'content-type': 'application/json',
      },
    });
  },
};
`;

/** The worker, which the autoscaler sizes from its backlog (from `replicas`, never below `minScale`). */
const workerYaml = (replicas: number, annotations: Record<string, string> = {}): string =>
  eventFunctionYaml({
    namespace,
    name: 'worker',
    code: workerCode(5),
    types: 'e2e.work',
    replicas,
    annotations: {
      'cloudbase.dev/event-concurrency': '8',
      'cloudbase.dev/event-backoff': '200ms',
      ...annotations,
    },
  });

/** Every reply the worker published so far: the ids of the events it handled, with repeats. */
async function handledIds(reader: string): Promise<string[]> {
  const consumer = await js.consumers.get(EVENTS_STREAM, reader);
  const ids: string[] = [];
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 1_000 });
    let got = 0;
    for await (const msg of batch) {
      got += 1;
      ids.push(msg.json<{ id: string }>().id);
      msg.ack();
    }
    if (got === 0) return ids;
  }
}

const postEvents = (headers: Record<string, string>, body: string): Promise<IngestAnswer> =>
  postToIngest(namespace, headers, body, { env });

function binaryEvent(id: string, type: string, bearer?: string): Record<string, string> {
  return {
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-source': '/ingest-e2e',
    'ce-type': type,
    'content-type': 'application/json',
    ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
  };
}

async function workerConsumer(): Promise<string> {
  const consumer = consumerName(namespace, 'worker');
  await eventually(
    'the controller to make the consumer',
    async () => ((await consumerNames(jsm, EVENTS_STREAM)).includes(consumer) ? true : undefined),
    120_000,
  );
  return consumer;
}

/** The test's own reader of the worker's replies, made before any is published (the stream keeps an event only for consumers interested in it). */
async function addReplyReader(name: string): Promise<string> {
  const reader = `${namespace}_${name}`;
  await jsm.consumers.add(EVENTS_STREAM, {
    durable_name: reader,
    filter_subjects: [eventSubject(namespace, 'e2e.handled')],
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
  });
  return reader;
}

describe('event functions on the cluster', () => {
  beforeAll(async () => {
    await reinstallCloudbase();
    await kubectl(['create', 'namespace', namespace]);
    connection = await connectBus({ servers: env.eventsUrl, name: 'events-e2e', logger }, 120_000);
    js = jetstream(connection);
    jsm = await jetstreamManager(connection);
  }, 700_000);

  afterAll(async () => {
    await connection?.close();
    await removeNamespace(namespace);
    await uninstallCloudbase();
  }, 400_000);

  it('gives an event function its consumer, hands it every event through a pod killed mid-stream, and deletes the consumer with it', async () => {
    // Two pods throughout, whatever the backlog: the kill must leave one consuming.
    await applyYaml(workerYaml(2, { 'cloudbase.dev/min-scale': '2' }), env);
    const consumer = await workerConsumer();
    const info = await jsm.consumers.info(EVENTS_STREAM, consumer);
    expect(info.config.filter_subjects).toEqual([
      eventSubject(namespace, 'e2e.work'),
      replaySubject(namespace, 'worker'),
    ]);
    await eventually(
      'two worker pods to be ready',
      async () => ((await readyPodIps(kube, namespace, 'worker')).length === 2 ? true : undefined),
      180_000,
    );
    const reader = await addReplyReader('replies');

    const total = 600;
    const ids = Array.from({ length: total }, (_, n) => `work-${n}`);
    const pods = await kube.core.listNamespacedPod({
      namespace,
      labelSelector: 'cloudbase.dev/function=worker',
    });
    const victim = pods.items[0]!.metadata!.name!;
    const published = (async () => {
      for (const [n, id] of ids.entries()) {
        await publish(js, namespace, {
          attributes: { specversion: '1.0', id, source: '/events-e2e', type: 'e2e.work' },
          data: Buffer.from(JSON.stringify({ n })),
        });
        if (n === total / 3)
          expect(
            (await kubectl(['-n', namespace, 'delete', 'pod', victim, '--force', '--grace-period=0'])).code,
          ).toBe(0);
      }
    })();
    await published;
    const handled: string[] = [];
    await eventually(
      `every one of the ${total} events to be handled`,
      async () => {
        handled.push(...(await handledIds(reader)));
        return new Set(handled).size === total ? true : undefined;
      },
      180_000,
    );
    expect([...new Set(handled)].sort()).toEqual([...ids].sort());
    console.log(
      `events e2e: ${total} events, ${handled.length - total} handled twice (the killed pod's unacknowledged ones)`,
    );
    await eventually('the consumer to have nothing pending', async () => {
      const now = await jsm.consumers.info(EVENTS_STREAM, consumer);
      return now.num_pending === 0 && now.num_ack_pending === 0 ? true : undefined;
    });

    await kubectl(['-n', namespace, 'delete', 'deployment', 'worker', '--wait=false']);
    await eventually(
      'the controller to delete the consumer',
      async () => (!(await consumerNames(jsm, EVENTS_STREAM)).includes(consumer) ? true : undefined),
      60_000,
    );
    await jsm.consumers.delete(EVENTS_STREAM, reader);
  }, 600_000);

  it('takes events over HTTP through Traefik from a publisher the API server lets publish, refusing the rest by name', async () => {
    await applyYaml(workerYaml(1), env);
    await workerConsumer();
    const reader = await addReplyReader('ingest');
    expect((await kubectl(['-n', namespace, 'create', 'serviceaccount', 'publisher'])).code).toBe(0);
    const publisher = await serviceAccountToken(namespace, 'publisher');
    // A tenant's function routed at the ingest's path on any host: the ingest's Host still takes its requests
    // (else the function would read every publisher's events and tokens for that path).
    await applyYaml(
      slowFunctionYaml(namespace, 'shadow', { 'cloudbase.dev/route': `/namespaces/${namespace}/events` }),
      env,
    );
    await eventually(
      'Traefik to route the shadowing function',
      async () =>
        (await fetch(`${env.traefikUrl}/namespaces/${namespace}/events`)).status === 200 ? true : undefined,
      180_000,
    );

    // The ingest's host is Cloudbase's: a function routed on it is refused, by name.
    const onIngestHost = await kubectl(
      ['apply', '-f', '-'],
      slowFunctionYaml(namespace, 'squatter', { 'cloudbase.dev/host': INGEST_HOST }),
      env,
    );
    expect(onIngestHost.code).not.toBe(0);
    expect(onIngestHost.stderr).toContain(`host ${INGEST_HOST} is reserved for Cloudbase itself`);

    const anonymous = await postEvents(binaryEvent('i-0', 'e2e.work'), '{}');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.message).toContain('Authorization: Bearer');
    // A token for the API server is not one for the ingest: it could be replayed against the API server.
    const apiToken = await postEvents(
      binaryEvent('i-0', 'e2e.work', await serviceAccountToken(namespace, 'publisher', null)),
      '{}',
    );
    expect(apiToken.status).toBe(401);
    expect(apiToken.json.message).toContain('did not authenticate');
    const unbound = await postEvents(binaryEvent('i-0', 'e2e.work', publisher), '{}');
    expect(unbound.status).toBe(403);
    expect(unbound.json.message).toContain(`system:serviceaccount:${namespace}:publisher may not create`);
    expect(unbound.json.message).toContain('cloudbase-events-publisher');

    const bound = await kubectl([
      ...['-n', namespace, 'create', 'rolebinding', 'publisher'],
      ...['--clusterrole=cloudbase-events-publisher', `--serviceaccount=${namespace}:publisher`],
    ]);
    expect(bound.code).toBe(0);
    // Each ingest replica keeps a refusal for 2 s: four requests in a row (Traefik takes turns between the
    // two replicas) all past authorization say the binding reached both.
    const old = { ...binaryEvent('i-x', 'e2e.work', publisher), 'ce-specversion': '0.3' };
    const refused = await eventually(
      'the RoleBinding to let the publisher publish through both replicas',
      async () => {
        const answers = [];
        for (let n = 0; n < 4; n += 1) answers.push(await postEvents(old, '{}'));
        return answers.every((answer) => answer.status === 400) ? answers[0]! : undefined;
      },
    );
    expect(refused.json.message).toContain('specversion "0.3" is not supported');
    const single = await postEvents(binaryEvent('i-0', 'e2e.work', publisher), '{"n":0}');
    expect(single).toEqual({ status: 202, json: { accepted: 1, duplicates: 0 } });
    const untaken = await postEvents(binaryEvent('i-y', 'e2e.nobody', publisher), '{}');
    expect(untaken.status).toBe(422);
    expect(untaken.json.message).toContain('"e2e.nobody"');

    const batch = Array.from({ length: 50 }, (_, n) => ({
      specversion: '1.0',
      id: `i-${n + 1}`,
      source: '/ingest-e2e',
      type: 'e2e.work',
      data: { n: n + 1 },
    }));
    const batchHeaders = {
      'content-type': 'application/cloudevents-batch+json',
      authorization: `Bearer ${publisher}`,
    };
    const first = await postEvents(batchHeaders, JSON.stringify(batch));
    expect(first).toEqual({ status: 202, json: { accepted: 50, duplicates: 0 } });
    // A publisher that retries (its answer was lost) lands each event once: deduplicated by source and id.
    const retried = await postEvents(batchHeaders, JSON.stringify(batch));
    expect(retried).toEqual({ status: 202, json: { accepted: 50, duplicates: 50 } });

    const handled: string[] = [];
    await eventually(
      'the 51 events to be handled',
      async () => {
        handled.push(...(await handledIds(reader)));
        return new Set(handled).size >= 51 ? true : undefined;
      },
      120_000,
    );
    expect([...new Set(handled)].sort()).toEqual(Array.from({ length: 51 }, (_, n) => `i-${n}`).sort());
    expect(handled).toHaveLength(51);
    await jsm.consumers.delete(EVENTS_STREAM, reader);
  }, 400_000);

  it('scales an event function on its backlog: from zero when events wait, up to max-scale under a burst, back to zero when idle', async () => {
    // 4 events at once a pod, 300 ms each: one pod handles about 13 a second, so 240 events are a backlog.
    const yaml = eventFunctionYaml({
      namespace,
      name: 'scaler',
      code: workerCode(300),
      types: 'e2e.scale',
      replicas: 1,
      annotations: {
        'cloudbase.dev/event-concurrency': '4',
        'cloudbase.dev/max-scale': '3',
        'cloudbase.dev/scale-window': '6s',
        'cloudbase.dev/scale-to-zero-after': '5s',
      },
    });
    await applyYaml(yaml, env);
    const consumer = consumerName(namespace, 'scaler');
    await eventually(
      'the controller to make the consumer',
      async () => ((await consumerNames(jsm, EVENTS_STREAM)).includes(consumer) ? true : undefined),
      120_000,
    );
    const reader = await addReplyReader('scaling');
    await eventually(
      'the idle function to be scaled to zero',
      async () => ((await replicasOf(kube, namespace, 'scaler')).spec === 0 ? true : undefined),
      120_000,
    );
    expect(await readyPodIps(kube, namespace, 'scaler')).toEqual([]);

    const controllers = await kube.core.listNamespacedPod({
      namespace: 'cloudbase-system',
      labelSelector: 'app.kubernetes.io/name=cloudbase',
    });
    const logs = controllers.items.map((pod) => followLogs('cloudbase-system', pod.metadata!.name!, env));
    const total = 240;
    const ids = Array.from({ length: total }, (_, n) => `s-${n}`);
    await Promise.all(
      ids.map((id) =>
        publish(js, namespace, {
          attributes: { specversion: '1.0', id, source: '/scaling-e2e', type: 'e2e.scale' },
          data: Buffer.from('{}'),
        }),
      ),
    );
    // 240 waiting events ask for 86 pods at 4 × 70 % a pod; max-scale holds it at 3.
    try {
      await eventually(
        'the backlog to scale the function from zero to its max-scale of 3',
        async () => ((await replicasOf(kube, namespace, 'scaler')).spec === 3 ? true : undefined),
        60_000,
        100,
      );
    } finally {
      // What the controllers said about it, for a failure to explain itself.
      const said = logs.map((log) => log.stop()).join('\n');
      const about = said.split('\n').filter((line) => /scaler|backlog/.test(line));
      if ((await replicasOf(kube, namespace, 'scaler')).spec !== 3) {
        const seen = await jsm.consumers.info(EVENTS_STREAM, consumer).catch((e: unknown) => String(e));
        const stream = await jsm.streams.info(EVENTS_STREAM).catch((e: unknown) => String(e));
        console.log(
          [
            ...about,
            `consumer: ${JSON.stringify(typeof seen === 'string' ? seen : { pending: seen.num_pending, ackPending: seen.num_ack_pending, delivered: seen.delivered, cluster: seen.cluster })}`,
            `stream: ${JSON.stringify(typeof stream === 'string' ? stream : { state: stream.state.messages, last: stream.state.last_seq, cluster: stream.cluster })}`,
          ].join('\n'),
        );
      }
    }
    const handled: string[] = [];
    await eventually(
      `the ${total} events to be handled`,
      async () => {
        handled.push(...(await handledIds(reader)));
        return new Set(handled).size === total ? true : undefined;
      },
      180_000,
    );
    expect([...new Set(handled)].sort()).toEqual([...ids].sort());
    await eventually(
      'the function to go back to zero once its backlog is gone',
      async () => ((await replicasOf(kube, namespace, 'scaler')).spec === 0 ? true : undefined),
      120_000,
    );
    const info = await jsm.consumers.info(EVENTS_STREAM, consumer);
    expect(info.num_pending + info.num_ack_pending).toBe(0);
    console.log(`events e2e: a backlog of ${total} scaled the function from 0 to 3 pods and back`);
    await jsm.consumers.delete(EVENTS_STREAM, reader);
  }, 600_000);

  it('loses no event whose publish was acknowledged when the NATS server leading the stream is killed mid-stream', async () => {
    // The worker of the ingest test, kept at one pod at least: this test is about the bus, not scaling.
    await applyYaml(workerYaml(1, { 'cloudbase.dev/min-scale': '1' }), env);
    await workerConsumer();
    await eventually(
      'a worker pod to be ready',
      async () => ((await readyPodIps(kube, namespace, 'worker')).length >= 1 ? true : undefined),
      180_000,
    );
    const reader = await addReplyReader('failover');
    const total = 300;
    const acknowledged: string[] = [];
    let failedPublishes = 0;
    const leader = (await jsm.streams.info(EVENTS_STREAM)).cluster?.leader;
    expect(leader).toMatch(/^cloudbase-nats-[0-2]$/);
    for (let n = 0; n < total; n += 1) {
      const id = `f-${n}`;
      if (n === total / 3)
        expect(
          (await kubectl(['-n', 'cloudbase-system', 'delete', 'pod', leader!, '--force', '--grace-period=0']))
            .code,
        ).toBe(0);
      // A publisher retries what was not acknowledged; only what was counts as published.
      for (let attempt = 0; attempt < 60; attempt += 1) {
        try {
          await publish(js, namespace, {
            attributes: { specversion: '1.0', id, source: '/failover-e2e', type: 'e2e.work' },
            data: Buffer.from('{}'),
          });
          acknowledged.push(id);
          break;
        } catch {
          failedPublishes += 1;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
    expect(acknowledged).toHaveLength(total);
    const handled: string[] = [];
    await eventually(
      `the ${total} acknowledged events to be handled`,
      async () => {
        handled.push(...(await handledIds(reader)));
        return acknowledged.every((id) => handled.includes(id)) ? true : undefined;
      },
      180_000,
    );
    const newLeader = (await jsm.streams.info(EVENTS_STREAM)).cluster?.leader;
    console.log(
      `events e2e: leader ${leader} killed, ${newLeader} leads; ${failedPublishes} publishes refused and retried, ${handled.length - total} handled twice`,
    );
    await jsm.consumers.delete(EVENTS_STREAM, reader);
  }, 400_000);
});
