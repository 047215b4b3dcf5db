/**
 * Who may do what on the event bus, against a real NATS server whose auth callout is Cloudbase's responder
 * (bus/auth-callout.ts with the controller's authorizer) and tokens the real API server issued and reviews:
 * a function pod's projected-style token (bound to the pod, for the bus audience) runs the real event
 * consumer on its own consumer, and is refused every other function's consumer and namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createAccount } from '@nats-io/nkeys';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { serveAuthCallout, type AuthCallout } from '../bus/auth-callout.js';
import { connectBus } from '../bus/connect.js';
import { publish } from '../bus/publish.js';
import {
  consumerConfig,
  deadLetterStreamConfig,
  ensureConsumer,
  ensureStream,
  eventsStreamConfig,
} from '../bus/streams.js';
import {
  BUS_APP_ACCOUNT,
  BUS_AUDIENCE,
  BUS_AUTH_ACCOUNT,
  functionInboxPrefix,
} from '../contract/bus-access.js';
import {
  consumerName,
  DEAD_LETTER_STREAM,
  deadLetterSubject,
  eventSubject,
  EVENTS_STREAM,
} from '../contract/event-bus.js';
import type { FunctionEvents } from '../contract/function-spec.js';
import { busAuthorizer } from '../controller/bus-authorizer.js';
import { readPodIdentity, reviewServiceAccountToken, type Kube } from '../kube/client.js';
import { startEventConsumer } from '../runtime/events/consumer.js';
import { createEventMetrics } from '../runtime/events/metrics.js';
import { ADAPTERS } from '../runtime/signatures/index.js';
import { clusterKube, eventually } from '../testing/cluster.js';
import { startNatsServer, type LocalNatsServer } from '../testing/nats-server.js';

const silent = pino({ level: 'silent' });
const namespace = `bus-auth-e2e-${randomBytes(3).toString('hex')}`;
const otherNamespace = `${namespace}-other`;
const PAUSE_IMAGE = 'registry.local/cloudbase/pause:3.10';
const policy: FunctionEvents = {
  types: ['orders.created'],
  maxAttempts: 1,
  backoffMs: [100],
  concurrency: 4,
};

let kube: Kube;
let server: LocalNatsServer;
let calloutConnection: NatsConnection;
let callout: AuthCallout;
let admin: NatsConnection;
let jsm: JetStreamManager;
const refusals: string[] = [];
const opened: NatsConnection[] = [];

/** The responder's log lines: a refusal names its reason there (a client sees only "Authorization Violation"). */
const calloutLog = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _encoding, done): void {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { reason?: string };
        if (entry.reason !== undefined) refusals.push(entry.reason);
      }
      done();
    },
  }),
);

async function token(
  serviceAccount: string,
  options: { pod?: { name: string; uid: string }; audience?: string; ns?: string } = {},
): Promise<string> {
  const answer = await kube.core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: options.ns ?? namespace,
    body: {
      spec: {
        audiences: [options.audience ?? BUS_AUDIENCE],
        expirationSeconds: 600,
        ...(options.pod === undefined
          ? {}
          : { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', ...options.pod } }),
      },
    },
  });
  const value = answer.status?.token;
  if (value === undefined) throw new Error(`no token issued for ${serviceAccount}`);
  return value;
}

async function createPod(
  name: string,
  labels: Record<string, string>,
): Promise<{ name: string; uid: string }> {
  const pod = await kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels },
      spec: {
        serviceAccountName: 'runner',
        automountServiceAccountToken: false,
        containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'Never' }],
      },
    },
  });
  return { name, uid: pod.metadata!.uid! };
}

async function connectAs(
  bearer: string | undefined,
  inboxPrefix?: string,
  name = 'bus-auth-e2e',
): Promise<NatsConnection> {
  const connection = await connect({
    servers: server.url,
    name,
    ...(bearer === undefined ? {} : { token: bearer }),
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
    reconnect: false,
    timeout: 10_000,
  });
  opened.push(connection);
  return connection;
}

/** A request's failure, as the connection saw it. */
async function refusal(connection: NatsConnection, subject: string): Promise<string> {
  try {
    await connection.request(subject, '', { timeout: 3_000 });
  } catch (error) {
    if (!(error instanceof Error)) return String(error);
    const cause = error.cause instanceof Error ? error.cause.message : '';
    return `${error.message} ${cause}`;
  }
  return 'answered';
}

let fnA: { name: string; uid: string };

beforeAll(async () => {
  kube = clusterKube();
  for (const ns of [namespace, otherNamespace])
    await kube.core.createNamespace({ body: { metadata: { name: ns } } });
  await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'bus-admin' } } });
  await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'runner' } } });
  fnA = await createPod('fn-a-pod', { 'cloudbase.dev/function': 'fn-a' });

  const issuer = createAccount();
  const password = randomBytes(16).toString('hex');
  server = await startNatsServer(`
accounts {
  ${BUS_AUTH_ACCOUNT} { users: [ { user: callout, password: "${password}" } ] }
  ${BUS_APP_ACCOUNT} { jetstream: enabled }
  SYS {}
}
system_account: SYS
authorization {
  auth_callout {
    issuer: ${issuer.getPublicKey()}
    account: ${BUS_AUTH_ACCOUNT}
    auth_users: [ callout ]
  }
}
`);
  calloutConnection = await connect({ servers: server.url, user: 'callout', pass: password });
  callout = serveAuthCallout({
    connection: calloutConnection,
    issuer,
    account: BUS_APP_ACCOUNT,
    authorize: busAuthorizer({
      review: (bearer, audience) => reviewServiceAccountToken(kube, bearer, audience),
      pod: (ns, name) => readPodIdentity(kube, ns, name),
      roles: { admins: [`${namespace}:bus-admin`], publishers: [] },
      logger: silent,
    }),
    logger: calloutLog,
  });
  const adminToken = await token('bus-admin');
  admin = await connectBus({
    servers: server.url,
    name: 'bus-auth-e2e admin',
    logger: silent,
    token: () => adminToken,
  });
  jsm = await jetstreamManager(admin);
  await ensureStream(jsm, eventsStreamConfig(1));
  await ensureStream(jsm, deadLetterStreamConfig(1));
  for (const [ns, name] of [
    [namespace, 'fn-a'],
    [namespace, 'fn-b'],
    [otherNamespace, 'fn-c'],
  ] as const) {
    const spec = { namespace: ns, name, timeoutMs: 5_000, scaling: { minScale: 0, maxScale: 10 } };
    await ensureConsumer(jsm, EVENTS_STREAM, consumerConfig(spec as never, policy));
  }
}, 120_000);

afterAll(async () => {
  for (const connection of opened) await connection.close().catch(() => undefined);
  await admin?.close();
  await callout?.stop();
  await calloutConnection?.close();
  await server?.stop();
  for (const ns of [namespace, otherNamespace])
    await kube.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe('a function pod on the bus (auth callout, API server tokens)', () => {
  it('consumes its own consumer with its pod-bound token: events handled, acked, a failure dead-lettered', async () => {
    const bearer = await token('runner', { pod: fnA });
    const connection = await connectBus({
      servers: server.url,
      name: 'fn-a',
      logger: silent,
      token: () => bearer,
      inboxPrefix: functionInboxPrefix(namespace, 'fn-a'),
    });
    opened.push(connection);
    const handled: string[] = [];
    const info = {
      name: 'fn-a',
      namespace,
      runtime: 'nodejs22',
      timeoutMs: 5_000,
      memoryLimitBytes: undefined,
    };
    const handler = ADAPTERS.fetch(async (request: Request) => {
      const body = await request.text();
      if (body === '"bad"') return new Response('no', { status: 500 });
      handled.push(body);
      return new Response(null, { status: 204 });
    }, info);
    const consumer = startEventConsumer(
      {
        namespace,
        consumer: consumerName(namespace, 'fn-a'),
        deadLetterSubject: deadLetterSubject(namespace, 'fn-a'),
        maxAttempts: policy.maxAttempts,
        backoffMs: policy.backoffMs,
        concurrency: policy.concurrency,
        timeoutMs: 5_000,
      },
      { connection, handler, logger: silent, metrics: createEventMetrics(new Registry()), retryMs: 100 },
    );
    try {
      await consumer.ready;
      const js = jetstream(admin);
      for (const [i, data] of ['1', '2', '3', '"bad"'].entries())
        await publish(js, namespace, {
          attributes: { specversion: '1.0', id: `e${i}`, source: 'bus-auth-e2e', type: 'orders.created' },
          data: new TextEncoder().encode(data),
        });
      await eventually('fn-a to settle', async () => {
        const state = await jsm.consumers.info(EVENTS_STREAM, consumerName(namespace, 'fn-a'));
        return state.num_pending === 0 && state.num_ack_pending === 0 ? state : undefined;
      });
      expect(handled.sort()).toEqual(['1', '2', '3']);
      const dead = await jsm.streams.info(DEAD_LETTER_STREAM, {
        subjects_filter: deadLetterSubject(namespace, 'fn-a'),
      });
      expect(dead.state.subjects?.[deadLetterSubject(namespace, 'fn-a')]).toBe(1);
    } finally {
      await consumer.stop(5_000);
    }
  });

  it("is refused another function's consumer, another namespace's subjects and other inboxes", async () => {
    const connection = await connectAs(
      await token('runner', { pod: fnA }),
      functionInboxPrefix(namespace, 'fn-a'),
    );
    const own = await connection.request(
      `$JS.API.CONSUMER.INFO.${EVENTS_STREAM}.${consumerName(namespace, 'fn-a')}`,
      '',
      {
        timeout: 3_000,
      },
    );
    expect(own.json<{ name?: string }>().name).toBe(consumerName(namespace, 'fn-a'));
    for (const subject of [
      `$JS.API.CONSUMER.INFO.${EVENTS_STREAM}.${consumerName(namespace, 'fn-b')}`,
      `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.${consumerName(otherNamespace, 'fn-c')}`,
      `$JS.API.CONSUMER.DELETE.${EVENTS_STREAM}.${consumerName(namespace, 'fn-b')}`,
      `$JS.API.STREAM.PURGE.${EVENTS_STREAM}`,
      eventSubject(otherNamespace, 'orders.created'),
      deadLetterSubject(namespace, 'fn-b'),
    ])
      expect(await refusal(connection, subject)).toMatch(/permissions violation/i);
    const snoop = connection.subscribe('_INBOX.>');
    await expect(snoop.closed).resolves.toMatchObject({
      message: expect.stringMatching(/permissions violation/i),
    });
  });

  it('lets no one in without a token the API server vouches for, for the bus, bound to a live function pod', async () => {
    const plain = await createPod('plain-pod', {});
    const gone = await createPod('gone-pod', { 'cloudbase.dev/function': 'fn-a' });
    const goneToken = await token('runner', { pod: gone });
    await kube.core.deleteNamespacedPod({ namespace, name: gone.name, gracePeriodSeconds: 0 });
    await eventually('gone-pod to be deleted', async () =>
      (await readPodIdentity(kube, namespace, gone.name)) === undefined ? true : undefined,
    );
    const cases: [string, string | undefined, RegExp][] = [
      ['no token', undefined, /no token/],
      ['a token that is no JWT', 'not-a-token', /did not authenticate/],
      [
        "a token for the API server's audience",
        await token('runner', { pod: fnA, audience: 'https://kubernetes.default.svc' }),
        /did not authenticate|audience/,
      ],
      ['a token bound to no pod', await token('runner'), /not bound to a pod/],
      [
        'a pod without the function label',
        await token('runner', { pod: plain }),
        /not a Cloudbase function's pod/,
      ],
      ['a deleted pod', goneToken, /does not exist|did not authenticate/],
    ];
    for (const [what, bearer, reason] of cases) {
      refusals.length = 0;
      await expect(connectAs(bearer, undefined, what)).rejects.toThrow(/authorization violation/i);
      expect({ what, refusals }).toEqual({ what, refusals: [expect.stringMatching(reason)] });
    }
  });
});
