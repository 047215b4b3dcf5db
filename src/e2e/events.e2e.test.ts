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
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { connectBus } from '../bus/connect.js';
import { consumerNames } from '../bus/streams.js';
import { consumerName, eventSubject, EVENTS_STREAM } from '../contract/event-bus.js';
import { publish } from '../runtime/events/consumer.js';
import {
  clusterEnv,
  clusterKube,
  eventually,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import { applyYaml, readyPodIps } from '../testing/scaling.js';

const run = promisify(execFile);
const REPO = new URL('../..', import.meta.url).pathname;
const env = clusterEnv();
const kube = clusterKube(env);
const namespace = testNamespace('e2e-events');
const logger = pino({ level: 'silent' });
let connection: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

/** A fetch handler that answers each event with a reply event `e2e.handled` carrying the event's id. */
const WORKER = `
export default {
  async fetch(request) {
    const id = request.headers.get('ce-id');
    await new Promise((resolve) => setTimeout(resolve, 5));
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

function workerYaml(replicas: number): string {
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'worker-code', namespace },
    data: { 'index.js': WORKER, 'package.json': '{ "type": "module" }' },
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'worker',
      namespace,
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'configmap:worker-code',
        'cloudbase.dev/trigger': 'event',
        'cloudbase.dev/events': 'e2e.work',
        'cloudbase.dev/event-concurrency': '8',
        'cloudbase.dev/event-backoff': '200ms',
      },
    },
    spec: { replicas, template: { spec: { containers: [{ name: 'function' }] } } },
  };
  return [configMap, deployment].map((o) => JSON.stringify(o)).join('\n');
}

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

describe('event functions on the cluster', () => {
  beforeAll(async () => {
    await run('bash', ['hack/uninstall.sh'], { cwd: REPO, timeout: 300_000 });
    await run('bash', ['hack/install.sh'], { cwd: REPO, timeout: 300_000 });
    await kubectl(['create', 'namespace', namespace]);
    connection = await connectBus({ servers: env.eventsUrl, name: 'events-e2e', logger }, 120_000);
    js = jetstream(connection);
    jsm = await jetstreamManager(connection);
  }, 700_000);

  afterAll(async () => {
    await connection?.close();
    await removeNamespace(namespace);
    await run('bash', ['hack/uninstall.sh'], { cwd: REPO, timeout: 300_000 });
  }, 400_000);

  it('gives an event function its consumer, hands it every event through a pod killed mid-stream, and deletes the consumer with it', async () => {
    await applyYaml(workerYaml(2), env);
    const consumer = consumerName(namespace, 'worker');
    await eventually(
      'the controller to make the consumer',
      async () => ((await consumerNames(jsm, EVENTS_STREAM)).includes(consumer) ? true : undefined),
      120_000,
    );
    const info = await jsm.consumers.info(EVENTS_STREAM, consumer);
    expect(info.config.filter_subjects).toEqual([eventSubject(namespace, 'e2e.work')]);
    await eventually(
      'two worker pods to be ready',
      async () => ((await readyPodIps(kube, namespace, 'worker')).length === 2 ? true : undefined),
      180_000,
    );
    // The test's own reader of the replies, made before any is published (the stream keeps an event only
    // for the consumers interested in it).
    const reader = `${namespace}_replies`;
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: reader,
      filter_subjects: [eventSubject(namespace, 'e2e.handled')],
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
    });

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
});
