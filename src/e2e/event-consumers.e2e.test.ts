/**
 * The controller's consumers against a real NATS server with JetStream (the binary the cluster scripts
 * build): the streams made once, each event function's consumer created from its annotations, updated
 * when they change, deleted with the function or when it becomes an HTTP function, left alone when its
 * annotations do not parse, and swept when no Deployment could own it. Read back from JetStream itself.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { connectBus, linkBus } from '../bus/connect.js';
import { publish } from '../bus/publish.js';
import { consumerNames } from '../bus/streams.js';
import { DEAD_LETTER_STREAM, EVENTS_STREAM } from '../contract/event-bus.js';
import { parseFunctionSpec } from '../contract/parse.js';
import { EventConsumers } from '../controller/event-consumers.js';
import { consumerIntents, type ConsumerIntent } from '../controller/consumer-intent.js';
import { eventually } from '../testing/cluster.js';
import { startNatsServer, type LocalNatsServer } from '../testing/nats-server.js';

const logger = pino({ level: 'silent' });
let server: LocalNatsServer;
let connection: NatsConnection;
let jsm: JetStreamManager;
let leading = true;
let consumers: EventConsumers;

beforeAll(async () => {
  server = await startNatsServer();
  connection = await connectBus({ servers: server.url, name: 'event-consumers-e2e', logger });
  jsm = await jetstreamManager(connection);
  consumers = new EventConsumers({
    jsm: () => jsm,
    replicas: 1,
    logger,
    assertLeading: (what) => {
      if (!leading) throw new Error(`not leading: ${what}`);
    },
  });
});

afterAll(async () => {
  await connection?.close();
  await server?.stop();
});

/** The consumers the reconcile of `namespace/name`, holding its name, writes with these annotations. */
function intentsOf(namespace: string, name: string, annotations: Record<string, string>): ConsumerIntent[] {
  return consumerIntents({
    namespace,
    parsed: parseFunctionSpec({
      annotations: { 'cloudbase.dev/function': 'true', 'cloudbase.dev/source': 'image', ...annotations },
      name,
      namespace,
    }),
    ownership: 'owner',
    previousName: undefined,
    declaredByOthers: () => false,
  });
}

/** The one consumer such a reconcile writes. */
function intentOf(namespace: string, name: string, annotations: Record<string, string>): ConsumerIntent {
  const [intent, ...more] = intentsOf(namespace, name, annotations);
  expect(more).toEqual([]);
  return intent!;
}

const eventAnnotations = (types: string) => ({
  'cloudbase.dev/trigger': 'event',
  'cloudbase.dev/events': types,
});

describe('the event consumers the controller keeps', () => {
  it('reads no backlog before the events stream exists', async () => {
    await expect(jsm.streams.info(EVENTS_STREAM)).rejects.toThrow(/stream not found/);
    expect(await consumers.backlogs(['shop_billing'])).toEqual(new Map());
  });

  it('makes the streams and an event function its consumer, filtered to its types in its namespace', async () => {
    expect(
      await consumers.reconcile(intentOf('shop', 'billing', eventAnnotations('orders.*, refunds.issued'))),
    ).toBe('created');
    expect((await jsm.streams.info(EVENTS_STREAM)).config.num_replicas).toBe(1);
    expect((await jsm.streams.info(DEAD_LETTER_STREAM)).config.subjects).toEqual(['cloudbase.deadletter.>']);
    const info = await jsm.consumers.info(EVENTS_STREAM, 'shop_billing');
    expect(info.config.filter_subjects).toEqual([
      'cloudbase.events.shop.orders.*',
      'cloudbase.events.shop.refunds.issued',
      'cloudbase.replay.shop.billing',
    ]);
    expect(info.config.max_deliver).toBe(-1);
    expect(
      await consumers.reconcile(intentOf('shop', 'billing', eventAnnotations('orders.*, refunds.issued'))),
    ).toBe('unchanged');
  });

  it('updates the consumer when its types or timeout change', async () => {
    const intent = intentOf('shop', 'billing', {
      ...eventAnnotations('orders.paid'),
      'cloudbase.dev/timeout': '60s',
    });
    expect(await consumers.reconcile(intent)).toBe('updated');
    const info = await jsm.consumers.info(EVENTS_STREAM, 'shop_billing');
    expect(info.config.filter_subjects).toEqual([
      'cloudbase.events.shop.orders.paid',
      'cloudbase.replay.shop.billing',
    ]);
    expect(info.config.ack_wait).toBe(70_000_000_000);
  });

  it('leaves the consumer alone when the annotations do not parse, and deletes it once the function is HTTP', async () => {
    const broken = intentsOf('shop', 'billing', {
      ...eventAnnotations('orders.paid'),
      'cloudbase.dev/event-max-attempts': 'many',
    });
    expect(broken).toEqual([]);
    expect(await consumerNames(jsm, EVENTS_STREAM)).toContain('shop_billing');
    expect(await consumers.reconcile(intentOf('shop', 'billing', {}))).toBe('deleted');
    expect(await consumerNames(jsm, EVENTS_STREAM)).not.toContain('shop_billing');
    expect(await consumers.reconcile({ kind: 'none', namespace: 'shop', name: 'billing' })).toBe('unchanged');
  });

  it('writes nothing when not leading', async () => {
    leading = false;
    try {
      await expect(consumers.reconcile(intentOf('shop', 'audit', eventAnnotations('a.b')))).rejects.toThrow(
        /not leading: the event consumer of shop\/audit/,
      );
    } finally {
      leading = true;
    }
    expect(await consumerNames(jsm, EVENTS_STREAM)).not.toContain('shop_audit');
  });

  it('fails a reconcile at once with the reason while the bus is not available, and works once linked', async () => {
    const unlinked = new EventConsumers({
      jsm: () => new Error('the event bus at nats://nowhere:4222 is not available yet (connecting); retried'),
      replicas: 1,
      logger,
      assertLeading: () => undefined,
    });
    await expect(unlinked.reconcile(intentOf('shop', 'late', eventAnnotations('a.b')))).rejects.toThrow(
      /event bus at nats:\/\/nowhere:4222 is not available yet/,
    );
    const link = linkBus({ servers: server.url, name: 'event-consumers-e2e-link', logger });
    try {
      await eventually('the link to connect', async () =>
        link.manager() instanceof Error ? undefined : true,
      );
      const linked = new EventConsumers({
        jsm: () => link.manager(),
        replicas: 1,
        logger,
        assertLeading: () => undefined,
      });
      expect(await linked.reconcile(intentOf('shop', 'late', eventAnnotations('a.b')))).toBe('created');
    } finally {
      await link.close();
    }
  });

  it('sweeps the consumers of functions no Deployment owns, and keeps the rest and those it did not make', async () => {
    for (const name of ['kept', 'gone'])
      await consumers.reconcile(intentOf('sweep', name, eventAnnotations('x.y')));
    // Another reader of the stream, named as a function's consumer would be: not Cloudbase's to delete.
    await jsm.consumers.add(EVENTS_STREAM, { durable_name: 'sweep_reader', ack_policy: AckPolicy.Explicit });
    expect(await consumers.sweep(() => ['sweep/kept', 'other/unrelated', 'shop/late'])).toEqual([
      'sweep_gone',
    ]);
    expect(
      (await consumerNames(jsm, EVENTS_STREAM)).filter((name) => name.startsWith('sweep_')).sort(),
    ).toEqual(['sweep_kept', 'sweep_reader']);
  });
  it("reads each event function's backlog from its consumer, and leaves out one that does not exist", async () => {
    await consumers.reconcile(intentOf('backlog', 'orders', eventAnnotations('orders.created')));
    const js = jetstream(connection);
    for (let n = 0; n < 5; n += 1)
      await publish(js, 'backlog', {
        attributes: { specversion: '1.0', id: `b-${n}`, source: '/backlog', type: 'orders.created' },
        data: Buffer.from('{}'),
      });
    const names = ['backlog_orders', 'backlog_missing'];
    expect(await consumers.backlogs(names)).toEqual(
      new Map([['backlog_orders', { pending: 5, ackPending: 0, delivered: 0 }]]),
    );
    // Two delivered and not acknowledged: in a handler, as far as the bus knows.
    const pulled = await (
      await js.consumers.get(EVENTS_STREAM, 'backlog_orders')
    ).fetch({
      max_messages: 2,
      expires: 2_000,
    });
    let got = 0;
    for await (const msg of pulled) if (msg.subject !== '') got += 1;
    expect(got).toBe(2);
    expect(await consumers.backlogs(names)).toEqual(
      new Map([['backlog_orders', { pending: 3, ackPending: 2, delivered: 2 }]]),
    );
  });

  it("moves a renamed function's consumer to its new name", async () => {
    const annotations = { ...eventAnnotations('x.y'), 'cloudbase.dev/function': 'invoices' };
    await consumers.reconcile(intentOf('rename', 'billing-v2', annotations));
    const renamed = consumerIntents({
      namespace: 'rename',
      parsed: parseFunctionSpec({
        annotations: {
          'cloudbase.dev/source': 'image',
          ...annotations,
          'cloudbase.dev/function': 'billing',
        },
        name: 'billing-v2',
        namespace: 'rename',
      }),
      ownership: 'owner',
      previousName: 'invoices',
      declaredByOthers: () => false,
    });
    const outcomes = [];
    for (const intent of renamed) outcomes.push(await consumers.reconcile(intent));
    expect(outcomes).toEqual(['deleted', 'created']);
    expect((await consumerNames(jsm, EVENTS_STREAM)).filter((n) => n.startsWith('rename_'))).toEqual([
      'rename_billing',
    ]);
  });
});
