/**
 * The event runtime against a real NATS server with JetStream (the binary the cluster scripts build): the
 * streams and consumers as the controller configures them, the runtime's consumer calling each signature's
 * adapter, and what becomes of every event (acked, retried after its backoff, dead-lettered) read back from
 * JetStream itself. No pods: the cluster tests prove the wiring; these prove the delivery rules.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { connectBus } from '../bus/connect.js';
import {
  consumerConfig,
  deadLetterStreamConfig,
  ensureConsumer,
  ensureStream,
  eventsStreamConfig,
} from '../bus/streams.js';
import {
  consumerName,
  DeadLetterHeader,
  DEAD_LETTER_STREAM,
  deadLetterSubject,
  eventSubject,
  EVENTS_STREAM,
} from '../contract/event-bus.js';
import type { FunctionEvents, Signature } from '../contract/function-spec.js';
import { publish } from '../bus/publish.js';
import { main } from '../cli/run.js';
import { startEventConsumer, type RunningConsumer } from '../runtime/events/consumer.js';
import { createEventMetrics, type EventMetrics } from '../runtime/events/metrics.js';
import type { EventsConfig, RuntimeConfig } from '../runtime/config.js';
import { startEventRuntime } from '../runtime/event-server.js';
import { createRuntimeMetrics } from '../runtime/http/metrics.js';
import { ADAPTERS } from '../runtime/signatures/index.js';
import { eventually } from '../testing/cluster.js';
import { startNatsServer, type LocalNatsServer } from '../testing/nats-server.js';

const logger = pino({ level: 'silent' });
let server: LocalNatsServer;
let connection: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const running: RunningConsumer[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  connection = await connectBus({ servers: server.url, name: 'event-delivery-e2e', logger });
  js = jetstream(connection);
  jsm = await jetstreamManager(connection);
  await ensureStream(jsm, eventsStreamConfig(1));
  await ensureStream(jsm, deadLetterStreamConfig(1));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((consumer) => consumer.stop(5_000)));
});

afterAll(async () => {
  await connection?.close();
  await server?.stop();
});

interface Deployed {
  consumer: RunningConsumer;
  metrics: EventMetrics;
}

/** Creates the function's consumer as the controller would and starts its runtime's consumer. */
async function deploy(
  namespace: string,
  name: string,
  signature: Signature,
  userExport: unknown,
  events: Partial<FunctionEvents> & Pick<FunctionEvents, 'types'>,
  timeoutMs = 5_000,
): Promise<Deployed> {
  const policy: FunctionEvents = { maxAttempts: 5, backoffMs: [100], concurrency: 16, ...events };
  const spec = { namespace, name, timeoutMs, scaling: { minScale: 0, maxScale: 10 } } as const;
  await ensureConsumer(jsm, EVENTS_STREAM, consumerConfig(spec as never, policy));
  const info = { name, namespace, runtime: 'nodejs22', timeoutMs, memoryLimitBytes: undefined };
  const metrics = createEventMetrics(new Registry());
  const consumer = startEventConsumer(
    {
      namespace,
      consumer: consumerName(namespace, name),
      deadLetterSubject: deadLetterSubject(namespace, name),
      maxAttempts: policy.maxAttempts,
      backoffMs: policy.backoffMs,
      concurrency: policy.concurrency,
      timeoutMs,
    },
    { connection, handler: ADAPTERS[signature](userExport, info), logger, metrics, retryMs: 100 },
  );
  running.push(consumer);
  await consumer.ready;
  return { consumer, metrics };
}

let nextId = 0;
/** Publishes an event of `type` into `namespace` with JSON data; resolves once JetStream stored it. */
async function send(namespace: string, type: string, data: unknown, id = `e-${++nextId}`): Promise<string> {
  await publish(js, namespace, {
    attributes: {
      specversion: '1.0',
      id,
      source: '/e2e',
      type,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
    },
    data: Buffer.from(JSON.stringify(data)),
  });
  return id;
}

async function counterValue(
  metrics: EventMetrics,
  key: 'acked' | 'retried' | 'deadLettered',
): Promise<number> {
  return (await metrics[key].get()).values[0]?.value ?? 0;
}

/** Waits until the function's consumer has nothing pending and nothing unacknowledged. */
async function settled(namespace: string, name: string): Promise<void> {
  await eventually(`consumer ${consumerName(namespace, name)} to settle`, async () => {
    const info = await jsm.consumers.info(EVENTS_STREAM, consumerName(namespace, name));
    return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
  });
}

async function deadLetters(
  namespace: string,
  name: string,
): Promise<{ data: string; headers: Record<string, string> }[]> {
  const subject = deadLetterSubject(namespace, name);
  const info = await jsm.streams.info(DEAD_LETTER_STREAM, { subjects_filter: subject });
  const found: { data: string; headers: Record<string, string> }[] = [];
  if ((info.state.subjects?.[subject] ?? 0) === 0) return found;
  const consumer = await js.consumers.get(DEAD_LETTER_STREAM, { filter_subjects: [subject] });
  for (;;) {
    const msg = await consumer.next({ expires: 1_000 });
    if (msg === null) break;
    const headers: Record<string, string> = {};
    for (const [k, v] of msg.headers ?? []) headers[k] = v[0] ?? '';
    found.push({ data: msg.string(), headers });
    msg.ack();
  }
  return found;
}

/** Each signature's handler shape, recording the id and data of each event it is called with. */
function recorder(signature: Signature, seen: Map<string, unknown>, calls: { n: number }): unknown {
  const note = (id: unknown, data: unknown): void => {
    calls.n += 1;
    seen.set(String(id), data);
  };
  switch (signature) {
    case 'fetch':
      return async (request: Request) => {
        note(request.headers.get('ce-id'), await request.json());
        return new Response(null, { status: 204 });
      };
    case 'openfaas':
      return async (event: { headers: Record<string, string>; body: unknown }) => {
        note(event.headers['ce-id'], event.body);
        return { handled: true };
      };
    case 'fission':
      return async (context: { request: { headers: Record<string, string>; body: unknown } }) => {
        note(context.request.headers['ce-id'], context.request.body);
        return { status: 200, body: 'ok' };
      };
    case 'kubeless':
      return (event: { 'event-id': string; data: unknown }) => {
        note(event['event-id'], event.data);
        return 'ok';
      };
    case 'knative':
      // The loader hands the adapter the `handle` export itself.
      return async (_context: unknown, event: { id: string; data: unknown }) => {
        note(event.id, event.data);
      };
  }
}

describe('event functions on a real JetStream', () => {
  it.each<Signature>(['fetch', 'openfaas', 'fission', 'kubeless', 'knative'])(
    'hands 1,000 events to a %s function, each once, all acknowledged',
    async (signature) => {
      const seen = new Map<string, unknown>();
      const calls = { n: 0 };
      const name = `bulk-${signature}`;
      const { metrics } = await deploy('alpha', name, signature, recorder(signature, seen, calls), {
        types: [`bulk.${signature}`],
        concurrency: 32,
      });
      const ids = await Promise.all(
        Array.from({ length: 1000 }, (_, n) =>
          send('alpha', `bulk.${signature}`, { n }, `${signature}-${n}`),
        ),
      );
      await eventually('every event handled', async () => (seen.size === 1000 ? true : undefined));
      await settled('alpha', name);
      expect(ids.filter((id) => !seen.has(id))).toEqual([]);
      expect(seen.get(`${signature}-417`)).toEqual({ n: 417 });
      expect(calls.n).toBe(1000);
      expect(await counterValue(metrics, 'acked')).toBe(1000);
    },
  );

  it('retries a failing event after each backoff delay and acks it when the handler succeeds', async () => {
    const attempts: { attempt: string | null; at: number }[] = [];
    await deploy(
      'alpha',
      'flaky',
      'fetch',
      async (request: Request) => {
        attempts.push({ attempt: request.headers.get('x-cloudbase-event-attempt'), at: performance.now() });
        return new Response(attempts.length <= 2 ? 'not yet' : 'done', {
          status: attempts.length <= 2 ? 503 : 200,
        });
      },
      { types: ['flaky.run'], maxAttempts: 5, backoffMs: [400, 800] },
    );
    await send('alpha', 'flaky.run', {});
    await eventually('the third attempt', async () => (attempts.length >= 3 ? true : undefined));
    await settled('alpha', 'flaky');
    expect(attempts.map((a) => a.attempt)).toEqual(['1', '2', '3']);
    const gaps = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(400 - 20);
    expect(gaps[1]).toBeGreaterThanOrEqual(800 - 20);
    expect(await deadLetters('alpha', 'flaky')).toEqual([]);
  });

  it('dead-letters an event after exactly its attempts, with its payload and the reason', async () => {
    let calls = 0;
    await deploy(
      'alpha',
      'broken',
      'fetch',
      async () => {
        calls += 1;
        return new Response('database unreachable', { status: 500 });
      },
      { types: ['broken.run'], maxAttempts: 3, backoffMs: [100] },
    );
    await send('alpha', 'broken.run', { order: 7 });
    await settled('alpha', 'broken');
    const letters = await deadLetters('alpha', 'broken');
    expect(calls).toBe(3);
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!.data)).toEqual({ order: 7 });
    expect(letters[0]!.headers[DeadLetterHeader.reason]).toBe(
      'attempt 3 of 3 failed: the function answered 500: database unreachable',
    );
    expect(letters[0]!.headers[DeadLetterHeader.attempts]).toBe('3');
    expect(letters[0]!.headers[DeadLetterHeader.subject]).toBe(eventSubject('alpha', 'broken.run'));
    expect(letters[0]!.headers['ce-type']).toBe('broken.run');
  });

  it('lists dead letters and replays one to the function that gave up on it alone, through `cloudbase dead-letters`', async () => {
    let fixed = false;
    const attempts: string[] = [];
    await deploy(
      'replay',
      'flaky',
      'fetch',
      async (request: Request) => {
        attempts.push(`${fixed ? 'fixed' : 'broken'} ${request.headers.get('x-cloudbase-event-attempt')}`);
        return new Response(fixed ? null : 'bug', { status: fixed ? 204 : 500 });
      },
      { types: ['replay.run'], maxAttempts: 2, backoffMs: [50] },
    );
    let calm = 0;
    await deploy('replay', 'calm', 'fetch', async () => ((calm += 1), new Response(null, { status: 204 })), {
      types: ['replay.run'],
    });
    const id = await send('replay', 'replay.run', { order: 9 });
    await settled('replay', 'flaky');
    await settled('replay', 'calm');
    const cli = async (...args: string[]): Promise<{ code: number; lines: string[] }> => {
      const lines: string[] = [];
      const code = await main(
        ['dead-letters', ...args, '--events-url', server.url, '--namespace', 'replay'],
        {
          stdout: (line) => lines.push(line),
          stderr: (line) => lines.push(line),
        },
      );
      return { code, lines };
    };

    const listed = await cli('list');
    expect(listed.code).toBe(0);
    expect(listed.lines).toHaveLength(1);
    const letter = JSON.parse(listed.lines[0]!) as Record<string, unknown>;
    expect(letter).toMatchObject({
      namespace: 'replay',
      function: 'flaky',
      attempts: 2,
      reason: 'attempt 2 of 2 failed: the function answered 500: bug',
      subject: eventSubject('replay', 'replay.run'),
      event: { id, source: '/e2e', type: 'replay.run' },
    });
    // A dead letter is replayed only to the function it belongs to.
    const wrong = await cli('replay', '--function', 'calm', '--seq', String(letter['seq']));
    expect(wrong.code).toBe(1);
    expect(wrong.lines[0]).toContain("is not one of replay/calm's");
    const missing = await cli('replay', '--function', 'flaky', '--seq', '999999');
    expect(missing.code).toBe(1);
    expect(missing.lines[0]).toContain('dead letter 999999 does not exist');

    fixed = true;
    const replayed = await cli('replay', '--function', 'flaky', '--all');
    expect(replayed).toEqual({
      code: 0,
      lines: [JSON.stringify({ seq: letter['seq'], outcome: 'replayed' }), '{"replayed":1,"failed":0}'],
    });
    await eventually('the replayed event to be handled', async () =>
      attempts.includes('fixed 1') ? true : undefined,
    );
    await settled('replay', 'flaky');
    expect(attempts).toEqual(['broken 1', 'broken 2', 'fixed 1']);
    expect(calm).toBe(1);
    expect((await cli('list')).lines).toEqual([]);
    expect(await deadLetters('replay', 'flaky')).toEqual([]);
  });

  it('dead-letters at once an event the handler calls bad (a 4xx)', async () => {
    let calls = 0;
    await deploy(
      'alpha',
      'picky',
      'fetch',
      async () => {
        calls += 1;
        return new Response('no order id', { status: 422 });
      },
      { types: ['picky.run'], maxAttempts: 5 },
    );
    await send('alpha', 'picky.run', {});
    await settled('alpha', 'picky');
    expect(calls).toBe(1);
    expect((await deadLetters('alpha', 'picky')).map((l) => l.headers[DeadLetterHeader.reason])).toEqual([
      'the function answered 422: no order id, which no retry mends',
    ]);
  });

  it('dead-letters a message on the events subjects that is not a CloudEvent, without calling the handler', async () => {
    let calls = 0;
    await deploy('alpha', 'strict', 'fetch', async () => ((calls += 1), new Response('')), {
      types: ['strict.run'],
    });
    const headers = natsHeaders();
    headers.set('ce-type', 'strict.run');
    await js.publish(eventSubject('alpha', 'strict.run'), 'hello', { headers });
    await settled('alpha', 'strict');
    expect(calls).toBe(0);
    expect(
      (await deadLetters('alpha', 'strict')).map((l) => [l.data, l.headers[DeadLetterHeader.reason]]),
    ).toEqual([
      ['hello', 'the message is not a CloudEvent: it has no ce-specversion, ce-id, ce-source header'],
    ]);
  });

  it("never hands a function another namespace's events, and hands one event to every function that takes its type", async () => {
    const got: Record<string, string[]> = { a1: [], a2: [], b1: [] };
    const taker = (key: string) => async (request: Request) => {
      got[key]!.push(request.headers.get('ce-id') ?? '');
      return new Response(null, { status: 204 });
    };
    await deploy('tenant-a', 'one', 'fetch', taker('a1'), { types: ['orders.*'] });
    await deploy('tenant-a', 'two', 'fetch', taker('a2'), { types: ['orders.created'] });
    await deploy('tenant-b', 'one', 'fetch', taker('b1'), { types: ['orders.created'] });
    const inA = await send('tenant-a', 'orders.created', {});
    const inB = await send('tenant-b', 'orders.created', {});
    const otherType = await send('tenant-a', 'orders.paid', {});
    await settled('tenant-a', 'one');
    await settled('tenant-a', 'two');
    await settled('tenant-b', 'one');
    expect(got).toEqual({ a1: [inA, otherType].sort(), a2: [inA], b1: [inB] });
  });

  it('publishes the CloudEvent a handler answers with as an event of its namespace', async () => {
    const shipped: unknown[] = [];
    await deploy(
      'alpha',
      'shipper',
      'knative',
      async (_context: unknown, event: { id: string; data: { order: number } }) => ({
        specversion: '1.0',
        id: `shipped-${event.id}`,
        source: '/shipper',
        type: 'orders.shipped',
        datacontenttype: 'application/json',
        data: { order: event.data.order, shipped: true },
      }),
      { types: ['orders.packed'] },
    );
    await deploy(
      'alpha',
      'notifier',
      'fetch',
      async (request: Request) => {
        shipped.push([request.headers.get('ce-source'), await request.json()]);
        return new Response(null, { status: 204 });
      },
      { types: ['orders.shipped'] },
    );
    await send('alpha', 'orders.packed', { order: 9 });
    await eventually('the reply event to arrive', async () => (shipped.length > 0 ? true : undefined));
    await settled('alpha', 'shipper');
    expect(shipped).toEqual([['/shipper', { order: 9, shipped: true }]]);
  });

  it('on stop, finishes the events in flight and leaves the rest to another pod, none lost or handled twice', async () => {
    const handled: string[] = [];
    const slow = async (request: Request) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      handled.push(request.headers.get('ce-id') ?? '');
      return new Response(null, { status: 204 });
    };
    const first = await deploy('alpha', 'shared', 'fetch', slow, { types: ['shared.run'], concurrency: 10 });
    const ids = await Promise.all(Array.from({ length: 60 }, (_, n) => send('alpha', 'shared.run', { n })));
    await eventually('the first pod to be busy', async () =>
      first.consumer.inFlight() > 0 ? true : undefined,
    );
    expect(await first.consumer.stop(5_000)).toBe(true);
    const byFirst = handled.length;
    await deploy('alpha', 'shared', 'fetch', slow, { types: ['shared.run'], concurrency: 10 });
    await eventually('every event handled', async () => (new Set(handled).size === 60 ? true : undefined));
    await settled('alpha', 'shared');
    expect(byFirst).toBeGreaterThan(0);
    expect(byFirst).toBeLessThan(60);
    expect([...handled].sort()).toEqual([...ids].sort());
  });
});

describe('the runtime of an event function', () => {
  const config = (namespace: string, functionName: string): RuntimeConfig & { events: EventsConfig } => ({
    workspace: '/nonexistent',
    handler: { modulePath: 'index.js' },
    signature: 'fetch',
    port: 0,
    adminPort: 0,
    functionName,
    namespace,
    runtime: 'nodejs22',
    timeoutMs: 5_000,
    maxBodyBytes: 1024,
    logLevel: 'silent',
    drainMs: 0,
    events: { url: server.url, maxAttempts: 3, backoffMs: [100], concurrency: 4 },
  });
  const readyz = async (adminUrl: string): Promise<string> => {
    const response = await fetch(`${adminUrl}/readyz`);
    return `${response.status} ${await response.text()}`;
  };

  it('is ready only once its consumer exists, consumes through the adapter, and on shutdown stops with nothing left unacked', async () => {
    const seen: unknown[] = [];
    const handler = ADAPTERS.fetch(
      async (request: Request) => {
        seen.push(await request.json());
        return new Response(null, { status: 204 });
      },
      {
        name: 'audit',
        namespace: 'gamma',
        runtime: 'nodejs22',
        timeoutMs: 5_000,
        memoryLimitBytes: undefined,
      },
    );
    const runtime = await startEventRuntime(config('gamma', 'audit'), {
      logger,
      metrics: createRuntimeMetrics(),
      host: '127.0.0.1',
      load: async () => handler,
    });
    // No consumer yet (the controller has not made it): the pod is not ready, and says why.
    await eventually('the runtime to try pulling', async () =>
      (await readyz(runtime.adminUrl)).startsWith('503') ? true : undefined,
    );
    expect(await readyz(runtime.adminUrl)).toMatch(
      /^503 .*waiting for consumer gamma_audit on the event bus/,
    );
    const spec = {
      namespace: 'gamma',
      name: 'audit',
      timeoutMs: 5_000,
      scaling: { minScale: 0, maxScale: 1 },
    };
    await ensureConsumer(
      jsm,
      EVENTS_STREAM,
      consumerConfig(spec as never, { types: ['audit.*'], maxAttempts: 3, backoffMs: [100], concurrency: 4 }),
    );
    expect(await runtime.ready).toBe(consumerName('gamma', 'audit'));
    expect(await readyz(runtime.adminUrl)).toMatch(/^200/);
    await Promise.all(Array.from({ length: 20 }, (_, n) => send('gamma', 'audit.logged', { n })));
    await settled('gamma', 'audit');
    expect(seen.map((data) => (data as { n: number }).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, n) => n),
    );
    expect(await runtime.shutdown()).toBe(true);
    await expect(fetch(`${runtime.adminUrl}/readyz`)).rejects.toThrow();
  });
});
