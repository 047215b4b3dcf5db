import { Agent, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { FunctionHandler, IncomingRequest } from '../model.js';
import { createFunctionServer } from './function-server.js';
import { createRuntimeMetrics, type RuntimeMetrics } from './metrics.js';

type LogLine = Record<string, unknown>;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Starts a function server for `handler` on 127.0.0.1 and returns its port, log lines and metrics. */
async function start(
  handler: FunctionHandler,
  {
    level = 'info',
    maxBodyBytes = 1024,
    isDraining,
  }: { level?: string; maxBodyBytes?: number; isDraining?: () => boolean } = {},
): Promise<{ port: number; server: Server; lines: LogLine[]; metrics: RuntimeMetrics }> {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const metrics = createRuntimeMetrics();
  const server = createFunctionServer({
    handler,
    logger,
    metrics,
    timeoutMs: 5000,
    maxBodyBytes,
    isDraining,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, lines, metrics };
}

/** Polls `condition` every 5 ms, failing after 5 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over node:http, so that every response header (e.g. `connection`) is visible. */
function send(
  port: number,
  {
    method = 'GET',
    path = '/',
    headers = {},
    body,
    agent,
  }: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string[];
    agent?: Agent;
  } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    for (const chunk of body ?? []) req.write(chunk);
    req.end();
  });
}

const answer =
  (status: number, headers: Record<string, string>, body: string): FunctionHandler =>
  async () => ({ status, headers, body });

describe('the function server', () => {
  it('hands the function the method, path, headers and raw body, and answers with its response', async () => {
    const seen: IncomingRequest[] = [];
    const { port } = await start(async (req) => {
      seen.push(req);
      return { status: 201, headers: { 'X-Handler': 'yes' }, body: Buffer.from('made') };
    });
    const res = await send(port, {
      method: 'PATCH',
      path: '/a/b?c=1',
      headers: { 'content-type': 'image/png', 'x-request-id': 'trace-1' },
      body: ['ab', 'cd'],
    });
    expect([res.status, res.body, res.headers['x-handler'], res.headers['content-type']]).toEqual([
      201,
      'made',
      'yes',
      'application/octet-stream',
    ]);
    expect(res.headers['x-request-id']).toBe('trace-1');
    const req = seen[0]!;
    expect([req.method, req.url, req.headers['content-type'], req.body.toString(), req.requestId]).toEqual([
      'PATCH',
      '/a/b?c=1',
      'image/png',
      'abcd',
      'trace-1',
    ]);
  });

  it('answers 413 with the request id for a chunked body over the limit and closes the connection, without calling the function', async () => {
    let calls = 0;
    const { port } = await start(
      async () => {
        calls++;
        return { status: 200, headers: {}, body: '' };
      },
      { maxBodyBytes: 4 },
    );
    const res = await send(port, {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked', 'x-request-id': 'big-1' },
      body: ['abc', 'de'],
    });
    expect([res.status, res.body, res.headers['x-request-id'], res.headers.connection, calls]).toEqual([
      413,
      'Payload Too Large: the request body exceeds the limit of 4 bytes',
      'big-1',
      'close',
      0,
    ]);
  });

  it.each([
    ['a status Node cannot write', answer(1000, {}, 'x')],
    ['a header value with a line break', answer(200, { 'x-bad': 'a\nb' }, 'x')],
    ['a header name with a space', answer(200, { 'bad name': 'x' }, 'x')],
  ])('answers 500 for %s, logs it with the request id, and keeps serving', async (_name, handler) => {
    const { port, lines } = await start(handler);
    const res = await send(port, { headers: { 'x-request-id': 'bad-1' } });
    expect([res.status, res.body, res.headers['content-type'], res.headers['x-request-id']]).toEqual([
      500,
      'Internal Server Error',
      'text/plain; charset=utf-8',
      'bad-1',
    ]);
    expect(lines.find((l) => l.msg === 'request failed')).toMatchObject({ level: 50, requestId: 'bad-1' });
    expect((await send(port)).status).toBe(500);
  });

  it('aborts the signal when the client goes away, once the function follows it', async () => {
    let aborted!: (reason: string) => void;
    const reason = new Promise<string>((resolve) => (aborted = resolve));
    const { port } = await start(
      (req) =>
        new Promise((resolve) => {
          req.signal.addEventListener('abort', () => {
            aborted((req.signal.reason as Error).message);
            resolve({ status: 200, headers: {}, body: 'nobody listens' });
          });
        }),
    );
    const client = httpRequest({ host: '127.0.0.1', port, path: '/' });
    client.on('error', () => undefined);
    client.end();
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.destroy();
    expect(await reason).toBe('the client closed the connection');
  });

  it('hands out an aborted signal when the client left before the function looked', async () => {
    let looked!: (state: [boolean, string]) => void;
    const state = new Promise<[boolean, string]>((resolve) => (looked = resolve));
    const { port } = await start(async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      looked([req.signal.aborted, (req.signal.reason as Error | undefined)?.message ?? '']);
      return { status: 200, headers: {}, body: 'nobody listens' };
    });
    const client = httpRequest({ host: '127.0.0.1', port, path: '/' });
    client.on('error', () => undefined);
    client.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.destroy();
    expect(await state).toEqual([true, 'the client closed the connection']);
  });

  it('leaves the signal alone when the function answered', async () => {
    let later!: IncomingRequest;
    const { port } = await start(async (req) => {
      later = req;
      return { status: 200, headers: {}, body: 'ok' };
    });
    await send(port);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(later.signal.aborted).toBe(false);
  });

  it('closes the connection after the answer once the server stops listening', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { port, server } = await start(async () => {
      await gate;
      return { status: 200, headers: {}, body: 'late' };
    });
    const inFlight = send(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = new Promise((resolve) => server.close(resolve));
    release();
    const res = await inFlight;
    expect([res.status, res.body, res.headers.connection]).toEqual([200, 'late', 'close']);
    await closed;
  });

  it.each([
    ['keeps the connection alive when not draining', false, 'keep-alive'],
    ['says connection: close on every answer while draining, still listening', true, 'close'],
  ])('%s', async (_case, draining, connection) => {
    const { port, server } = await start(answer(200, {}, 'ok'), { isDraining: () => draining });
    const agent = new Agent({ keepAlive: true });
    try {
      const res = await send(port, { agent });
      expect([res.status, res.headers.connection, server.listening]).toEqual([200, connection, true]);
    } finally {
      agent.destroy();
    }
  });

  it('counts every answer by method and status', async () => {
    const { port, metrics } = await start(answer(202, {}, 'ok'));
    await send(port, { method: 'DELETE' });
    await send(port, { method: 'DELETE' });
    expect(await metrics.registry.metrics()).toContain(
      'cloudbase_runtime_requests_total{method="DELETE",status="202"} 2',
    );
  });

  it('counts a request in flight from arrival to its answer, one whose client left included', async () => {
    let release: () => void = () => undefined;
    const { port, metrics } = await start(
      () => new Promise((resolve) => (release = () => resolve({ status: 200, headers: {}, body: 'ok' }))),
    );
    const agent = new Agent({ keepAlive: false });
    const answered = send(port, { agent });
    await waitFor(() => metrics.concurrency.read(performance.now()).inFlight === 1);
    release();
    await answered;
    await waitFor(() => metrics.concurrency.read(performance.now()).inFlight === 0);
    // A client that goes away leaves its function running: in flight until the function answers.
    const cut = httpRequest({ port, host: '127.0.0.1', path: '/', agent });
    cut.on('error', () => undefined);
    cut.end();
    await waitFor(() => metrics.concurrency.read(performance.now()).inFlight === 1);
    cut.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(metrics.concurrency.read(performance.now()).inFlight).toBe(1);
    release();
    await waitFor(() => metrics.concurrency.read(performance.now()).inFlight === 0);
    const stats = metrics.concurrency.read(performance.now());
    expect(stats.requests).toBe(2);
    expect(stats.concurrencySeconds).toBeGreaterThan(0);
    agent.destroy();
  });

  it('counts out a request whose body never arrives', async () => {
    const { port, metrics } = await start(answer(200, {}, 'ok'));
    const cut = httpRequest({
      port,
      host: '127.0.0.1',
      path: '/',
      method: 'POST',
      headers: { 'content-length': '100' },
    });
    cut.on('error', () => undefined);
    cut.write('only some of it');
    await waitFor(() => metrics.concurrency.read(performance.now()).inFlight === 1);
    cut.destroy();
    await waitFor(() => metrics.concurrency.read(performance.now()).inFlight === 0);
  });

  it('writes one access-log line per request at debug level, none at info', async () => {
    const debug = await start(answer(200, {}, 'ok'), { level: 'debug' });
    await send(debug.port, { path: '/x?y=1', headers: { 'x-request-id': 'log-1' } });
    expect(debug.lines.filter((l) => l.msg === 'request completed')).toEqual([
      expect.objectContaining({ level: 20, requestId: 'log-1', method: 'GET', url: '/x?y=1', status: 200 }),
    ]);
    const info = await start(answer(200, {}, 'ok'));
    await send(info.port);
    expect(info.lines).toEqual([]);
  });
});
