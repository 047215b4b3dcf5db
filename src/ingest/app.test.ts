import { afterEach, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { BusEvent } from '../bus/http-events.js';
import { buildIngestApp, type IngestAppOptions } from './app.js';

const logger = pino({ level: 'silent' });
const started: ReturnType<typeof buildIngestApp>[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((built) => built.close()));
});

/** One request to the app over a real socket (Fastify's inject needs an ESM import Jest cannot do here). */
async function call(
  built: ReturnType<typeof buildIngestApp>,
  request: { method?: string; url: string; headers?: Record<string, string>; payload?: string },
): Promise<{ statusCode: number; json: () => { message?: string } & Record<string, unknown> }> {
  if (!built.server.listening) {
    await built.listen({ host: '127.0.0.1', port: 0 });
    started.push(built);
  }
  const address = built.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const response = await fetch(`http://127.0.0.1:${port}${request.url}`, {
    method: request.method ?? 'GET',
    headers: request.headers ?? {},
    ...(request.payload === undefined ? {} : { body: request.payload }),
  });
  const text = await response.text();
  return {
    statusCode: response.status,
    json: () => JSON.parse(text) as { message?: string } & Record<string, unknown>,
  };
}
/** POSTs `events` to namespace shop in batch mode, with a bearer token. */
const postBatch = (built: ReturnType<typeof buildIngestApp>, events: unknown[]) =>
  call(built, {
    method: 'POST',
    url: '/namespaces/shop/events',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: 'Bearer t' },
    payload: JSON.stringify(events),
  });

const binary = {
  'ce-specversion': '1.0',
  'ce-id': 'e-1',
  'ce-source': '/test',
  'ce-type': 'orders.created',
  'content-type': 'application/json',
  authorization: 'Bearer t',
};

function app(overrides: Partial<IngestAppOptions> = {}): {
  app: ReturnType<typeof buildIngestApp>;
  published: [string, BusEvent][];
} {
  const published: [string, BusEvent][] = [];
  const built = buildIngestApp({
    logger,
    authorize: async () => ({ ok: true, user: 'u' }),
    untaken: async (subjects) => subjects.filter((subject) => !subject.endsWith('.orders.created')),
    publish: async (namespace, event) => {
      published.push([namespace, event]);
      return { duplicate: event.attributes.id === 'seen' };
    },
    notReady: () => undefined,
    ...overrides,
  });
  return { app: built, published };
}

describe('the ingest app', () => {
  it('publishes a binary-mode event into the namespace of the path and answers 202', async () => {
    const { app: ingest, published } = app();
    const answer = await call(ingest, {
      method: 'POST',
      url: '/namespaces/shop/events',
      headers: binary,
      payload: '{"n":1}',
    });
    expect(answer.statusCode).toBe(202);
    expect(answer.json()).toEqual({ accepted: 1, duplicates: 0 });
    expect(published).toHaveLength(1);
    expect(published[0]![0]).toBe('shop');
    expect(published[0]![1].attributes).toMatchObject({ id: 'e-1', type: 'orders.created' });
    expect(Buffer.from(published[0]![1].data).toString()).toBe('{"n":1}');
  });

  it('counts the events the bus already had as duplicates', async () => {
    const { app: ingest } = app();
    const batch = ['seen', 'new'].map((id) => ({
      specversion: '1.0',
      id,
      source: '/t',
      type: 'orders.created',
    }));
    const answer = await postBatch(ingest, batch);
    expect(answer.statusCode).toBe(202);
    expect(answer.json()).toEqual({ accepted: 2, duplicates: 1 });
  });

  it.each([
    [
      'a refused token',
      { authorize: async () => ({ ok: false, status: 401, message: 'bad token' }) },
      401,
      'bad token',
    ],
    [
      'no right to publish',
      { authorize: async () => ({ ok: false, status: 403, message: 'may not' }) },
      403,
      'may not',
    ],
    [
      'an API server that cannot be asked',
      { authorize: async () => Promise.reject(new Error('down')) },
      503,
      'down',
    ],
    ['a bus not connected', { notReady: () => 'connecting' }, 503, 'connecting'],
    [
      'a bus that refuses the publish',
      { publish: async () => Promise.reject(new Error('no space')) },
      503,
      'stored 0 of 1 events',
    ],
  ] as [string, Partial<IngestAppOptions>, number, string][])(
    'answers %s with its status and says why, publishing nothing',
    async (_case, overrides, status, message) => {
      const { app: ingest, published } = app(overrides);
      const answer = await call(ingest, {
        method: 'POST',
        url: '/namespaces/shop/events',
        headers: binary,
        payload: '{}',
      });
      expect(answer.statusCode).toBe(status);
      expect(answer.json().message).toContain(message);
      expect(published).toHaveLength(0);
    },
  );

  it.each([
    ['a request that is no CloudEvent', { authorization: 'Bearer t' }, 400, 'is not a CloudEvent'],
    ['an event of another specversion', { ...binary, 'ce-specversion': '0.3' }, 400, 'specversion "0.3"'],
    ['a type no function takes', { ...binary, 'ce-type': 'orders.deleted' }, 422, '"orders.deleted"'],
    ['a type that cannot be routed', { ...binary, 'ce-type': 'orders created' }, 400, 'cannot be routed'],
  ])('refuses %s', async (_case, headers, status, message) => {
    const { app: ingest, published } = app();
    const answer = await call(ingest, {
      method: 'POST',
      url: '/namespaces/shop/events',
      headers,
      payload: '{}',
    });
    expect(answer.statusCode).toBe(status);
    expect(answer.json().message).toContain(message);
    expect(published).toHaveLength(0);
  });

  it('refuses a whole batch when one of its types is taken by no function', async () => {
    const { app: ingest, published } = app();
    const batch = ['orders.created', 'orders.lost'].map((type, i) => ({
      specversion: '1.0',
      id: `b-${i}`,
      source: '/t',
      type,
    }));
    const answer = await postBatch(ingest, batch);
    expect(answer.statusCode).toBe(422);
    expect(answer.json().message).toContain('"orders.lost"');
    expect(published).toHaveLength(0);
  });

  it('answers 413 for a body over 1 MiB and 404 for another path or a wrong namespace', async () => {
    const { app: ingest } = app();
    const large = await call(ingest, {
      method: 'POST',
      url: '/namespaces/shop/events',
      headers: binary,
      payload: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(large.statusCode).toBe(413);
    expect(large.json().message).toContain('smaller batches');
    const other = await call(ingest, { method: 'POST', url: '/events', headers: binary, payload: '{}' });
    expect(other.statusCode).toBe(404);
    expect(other.json().message).toContain('/namespaces/<namespace>/events');
    const wrong = await call(ingest, {
      method: 'POST',
      url: '/namespaces/Shop/events',
      headers: binary,
      payload: '{}',
    });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json().message).toContain('not a namespace name');
  });

  it('is ready only while the bus is connected', async () => {
    let reason: string | undefined = 'connecting';
    const { app: ingest } = app({ notReady: () => reason });
    expect((await call(ingest, { url: '/readyz' })).statusCode).toBe(503);
    reason = undefined;
    expect((await call(ingest, { url: '/readyz' })).statusCode).toBe(200);
  });
});
