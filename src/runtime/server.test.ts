import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino, type Logger } from 'pino';
import type { Signature } from '../contract/function-spec.js';
import { terminationGracePeriodSeconds } from '../contract/runtime-env.js';
import type { RuntimeConfig } from './config.js';
import { createRuntimeMetrics } from './http/metrics.js';
import type { FunctionHandler } from './model.js';
import { loadFunction } from './serve.js';
import { inFlightGraceMs, startRuntime, type RunningRuntime, type RuntimeDeps } from './server.js';
import { TESTDATA } from './testdata/request.js';

type LogLine = Record<string, unknown>;

function config(
  signature: Signature,
  modulePath: string,
  exportName?: string,
  overrides: Partial<RuntimeConfig> = {},
): RuntimeConfig {
  return {
    workspace: TESTDATA,
    handler: { modulePath, exportName },
    signature,
    port: 0,
    adminPort: 0,
    functionName: 'hello',
    namespace: 'demo',
    runtime: 'nodejs22',
    timeoutMs: 5000,
    maxBodyBytes: 1024,
    logLevel: 'info',
    drainMs: 0,
    ...overrides,
  };
}

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

const running: RunningRuntime[] = [];
const agents: Agent[] = [];
const drainEnds: Array<() => void> = [];
afterEach(async () => {
  for (const end of drainEnds.splice(0)) end();
  for (const agent of agents.splice(0)) agent.destroy();
  // shutdown() is idempotent: a test that shut its runtime down already gets the same answer.
  await Promise.all(running.splice(0).map((r) => r.shutdown()));
});

/** Starts the runtime on 127.0.0.1 with ephemeral ports and waits until it is ready. */
async function start(
  cfg: RuntimeConfig,
  deps: Partial<Pick<RuntimeDeps, 'load' | 'sleep' | 'shutdownGraceMs'>> = {},
): Promise<{ url: string; adminUrl: string; runtime: RunningRuntime; lines: LogLine[] }> {
  const { logger, lines } = capturingLogger();
  const runtime = await startRuntime(cfg, {
    logger,
    metrics: createRuntimeMetrics(),
    host: '127.0.0.1',
    load: () => loadFunction(cfg, undefined, logger),
    ...deps,
  });
  running.push(runtime);
  const url = await runtime.ready;
  return { url, adminUrl: runtime.adminUrl, runtime, lines };
}

async function call(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; type: string | null; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: await res.text(),
    headers: res.headers,
  };
}

const drainConfig = (drainMs: number): RuntimeConfig =>
  config('fetch', 'fetch/esm/handler.js', undefined, { drainMs });

/** A drain the test ends itself: `asked` resolves with the period the runtime asked to wait. */
function drainGate(): {
  sleep: (ms: number) => Promise<void>;
  asked: Promise<number>;
  calls: number[];
  end: () => void;
} {
  const calls: number[] = [];
  let askedFor!: (ms: number) => void;
  const asked = new Promise<number>((resolve) => (askedFor = resolve));
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  drainEnds.push(end);
  const sleep = (ms: number): Promise<void> => {
    calls.push(ms);
    askedFor(ms);
    return ended;
  };
  return { sleep, asked, calls, end };
}

/** A function that holds `/hold` until released (`arrived` once it has it) and answers the rest at once. */
function heldFunction(): {
  load: () => Promise<FunctionHandler>;
  arrived: Promise<void>;
  release: () => void;
} {
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const handler: FunctionHandler = async (req) => {
    if (req.url === '/hold') {
      arrive();
      await released;
      return { status: 200, headers: {}, body: 'held' };
    }
    return { status: 200, headers: {}, body: 'ok' };
  };
  return { load: async () => handler, arrived, release };
}

/** An agent that keeps one connection alive, as a proxy's pool does. */
function keepAliveAgent(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

/** One request over node:http: whether it reused a kept connection, and the answer's `connection`. */
function get(
  url: string,
  agent: Agent,
): Promise<{ reused: boolean; status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          reused: req.reusedSocket,
          status: res.statusCode!,
          body: Buffer.concat(chunks).toString(),
          connection: res.headers.connection,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** True if a TCP connection to the URL's port is refused, false if it is accepted. */
function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve(true) : reject(err),
    );
  });
}

/** Polls `condition` every 10 ms until it holds; fails after two seconds. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the runtime over HTTP', () => {
  describe('answers 200 for each signature', () => {
    it.each([
      ['fetch', 'fetch/esm/handler.js', undefined, '/text?name=ada', undefined, 'hello ada'],
      ['fetch', 'fetch/cjs/handler.js', undefined, '/any/path', undefined, 'hello from cjs /any/path'],
      [
        'openfaas',
        'openfaas/node20/handler.js',
        undefined,
        '/',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
        '{"body":"{\\"a\\":1}","content-type":"application/json"}',
      ],
      ['fission', 'fission/nodejs/hello.js', undefined, '/', undefined, 'hello, world!\n'],
      [
        'kubeless',
        'kubeless/nodejs/handler.js',
        'foo',
        '/',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":"world"}' },
        '{"hello":"world"}',
      ],
      [
        'knative',
        'knative/http/index.js',
        undefined,
        '/?name=ada',
        undefined,
        '{"query":{"name":"ada"},"name":"ada"}',
      ],
    ] as const)('%s: %s %s', async (signature, file, exportName, path, init, body) => {
      const { url } = await start(config(signature, file, exportName));
      const res = await call(url + path, init);
      expect([res.status, res.body]).toEqual([200, body]);
    });
  });

  it('routes every method and path to the function', async () => {
    const { url } = await start(config('fetch', 'fetch/esm/handler.js'));
    for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect((await call(`${url}/a/b/${'c'.repeat(300)}?x=1`, { method })).body).toBe(
        `hello from ${method} /a/b/${'c'.repeat(300)}`,
      );
    }
  });

  it('answers 204 with no body when the function returns nothing', async () => {
    const { url } = await start(config('fetch', 'fetch/esm/handler.js'));
    expect(await call(`${url}/empty`).then((r) => [r.status, r.body])).toEqual([204, '']);
  });

  it('hands any content type to the function as raw bytes', async () => {
    const { url } = await start(config('fetch', 'fetch/esm/handler.js'));
    const res = await call(`${url}/size`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(700),
    });
    expect([res.status, res.body]).toEqual([200, '{"bytes":700}']);
  });

  it('answers 500 when the function throws, logs it with the request id, and keeps serving', async () => {
    const { url, lines } = await start(config('fetch', 'fetch/esm/handler.js'));
    const res = await call(`${url}/boom`, { headers: { 'x-request-id': 'trace-123' } });
    expect([res.status, res.type, res.body, res.headers.get('x-request-id')]).toEqual([
      500,
      'text/plain; charset=utf-8',
      'Internal Server Error',
      'trace-123',
    ]);
    const logged = lines.find((l) => l.msg === 'the function threw');
    expect(logged).toMatchObject({ level: 50, requestId: 'trace-123', err: { message: 'boom' } });
    expect((await call(`${url}/text`)).status).toBe(200);
  });

  it('generates a request id when the caller sends none (or an unusable one)', async () => {
    const { url } = await start(config('fetch', 'fetch/esm/handler.js'));
    const res = await call(`${url}/text`, { headers: { 'x-request-id': 'has spaces' } });
    expect(res.headers.get('x-request-id')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('answers 413 for a body over the limit, without calling the function', async () => {
    const { url } = await start(config('fetch', 'fetch/esm/handler.js', undefined, { maxBodyBytes: 100 }));
    const res = await call(`${url}/size`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(101),
    });
    expect([res.status, res.body]).toEqual([
      413,
      'Payload Too Large: the request body exceeds the limit of 100 bytes',
    ]);
    expect(
      (
        await call(`${url}/size`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'x'.repeat(100),
        })
      ).body,
    ).toBe('{"bytes":100}');
  });

  it('answers 400 with the reason for malformed JSON', async () => {
    const { url } = await start(config('openfaas', 'openfaas/node20/handler.js'));
    const res = await call(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/^Bad Request: the body is not valid JSON \(/);
  });

  it('answers 504 when the function exceeds the timeout', async () => {
    const { url, adminUrl } = await start(
      config('fetch', 'fetch/esm/handler.js', undefined, { timeoutMs: 100 }),
    );
    const res = await call(`${url}/slow?ms=2000`);
    expect([res.status, res.body]).toEqual([
      504,
      'Gateway Timeout: the function did not answer within 100 ms',
    ]);
    expect((await call(`${adminUrl}/metrics`)).body).toContain(
      'cloudbase_runtime_function_errors_total{kind="timeout"} 1',
    );
  });

  it('serves liveness, readiness and metrics on the admin port', async () => {
    const { url, adminUrl } = await start(config('fetch', 'fetch/esm/handler.js'));
    await call(`${url}/text`);
    expect(await call(`${adminUrl}/livez`).then((r) => [r.status, r.body])).toEqual([200, 'ok']);
    expect(await call(`${adminUrl}/readyz`).then((r) => [r.status, r.body])).toEqual([200, 'ready']);
    const metrics = await call(`${adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^cloudbase_runtime_cold_start_seconds \d+(\.\d+)?(e-?\d+)?$/m);
    expect(metrics.body).toContain('cloudbase_runtime_requests_total{method="GET",status="200"} 1');
    expect(metrics.body).toContain(
      'cloudbase_runtime_request_duration_seconds_count{method="GET",status="200"} 1',
    );
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    // The function port has no admin routes: /metrics there is the function's.
    expect((await call(`${url}/metrics`)).body).toBe('hello from GET /metrics');
  });

  it('is not ready until the function has loaded', async () => {
    const cfg = config('fetch', 'fetch/esm/handler.js');
    const { logger } = capturingLogger();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runtime = await startRuntime(cfg, {
      logger,
      metrics: createRuntimeMetrics(),
      host: '127.0.0.1',
      load: async () => {
        await gate;
        return loadFunction(cfg, undefined, logger);
      },
    });
    running.push(runtime);
    expect(await call(`${runtime.adminUrl}/readyz`).then((r) => [r.status, r.body])).toEqual([
      503,
      'loading fetch/esm/handler.js',
    ]);
    expect((await call(`${runtime.adminUrl}/metrics`)).body).toMatch(
      /^cloudbase_runtime_cold_start_seconds 0$/m,
    );
    release();
    await runtime.ready;
    expect(await call(`${runtime.adminUrl}/readyz`).then((r) => [r.status, r.body])).toEqual([200, 'ready']);
  });

  it('stays unready and says why when the function cannot be loaded', async () => {
    const cfg = config('openfaas', 'kubeless/nodejs/handler.js');
    const { logger } = capturingLogger();
    const runtime = await startRuntime(cfg, {
      logger,
      metrics: createRuntimeMetrics(),
      host: '127.0.0.1',
      load: () => loadFunction(cfg, undefined, logger),
    });
    running.push(runtime);
    await expect(runtime.ready).rejects.toThrow(
      /^the openfaas signature expects module.exports = async \(event, context\) => \.\.\., got an object with keys /,
    );
    const ready = await call(`${runtime.adminUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/^failed to load the function: the openfaas signature expects/);
  });

  it('turns unready, finishes in-flight requests on shutdown, then refuses connections', async () => {
    const { url, adminUrl, runtime } = await start(config('fetch', 'fetch/esm/handler.js'));
    running.splice(running.indexOf(runtime), 1);
    const inFlight = call(`${url}/slow?ms=300`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const shutdown = runtime.shutdown();
    // Readiness drops at once, so that the Service stops sending new traffic while requests drain.
    expect(await call(`${adminUrl}/readyz`).then((r) => [r.status, r.body])).toEqual([503, 'shutting down']);
    const drained = await shutdown;
    expect(drained).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await inFlight.then((r) => [r.status, r.body])).toEqual([200, 'slow done']);
    await expect(fetch(`${url}/text`)).rejects.toThrow();
    await expect(fetch(`${adminUrl}/livez`)).rejects.toThrow();
  });

  describe('draining after SIGTERM', () => {
    it('turns unready at once and logs the drain with its period', async () => {
      const drain = drainGate();
      const { adminUrl, runtime, lines } = await start(drainConfig(200), { sleep: drain.sleep });
      const shutdown = runtime.shutdown();
      expect(await call(`${adminUrl}/readyz`).then((r) => [r.status, r.body])).toEqual([
        503,
        'shutting down',
      ]);
      expect(await drain.asked).toBe(200);
      expect(
        lines.find((l) => l.msg === 'draining: readiness false, serving with Connection: close'),
      ).toMatchObject({ level: 30, drainMs: 200 });
      drain.end();
      expect(await shutdown).toBe(true);
      expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'shut down', drained: true });
    });

    it.each([
      ['before SIGTERM', 'keep-alive', false],
      ['during the drain', 'close', true],
    ])(
      '%s, accepts a new connection and answers 200 with connection: %s',
      async (_when, connection, draining) => {
        const drain = drainGate();
        const { url, runtime } = await start(drainConfig(200), { sleep: drain.sleep });
        if (draining) {
          void runtime.shutdown();
          await drain.asked;
        }
        const res = await get(`${url}/text`, keepAliveAgent());
        expect([res.reused, res.status, res.body, res.connection]).toEqual([
          false,
          200,
          'hello world',
          connection,
        ]);
      },
    );

    it('keeps an idle keep-alive connection open through the drain; its next answer says close', async () => {
      const drain = drainGate();
      const { url, adminUrl, runtime } = await start(drainConfig(200), { sleep: drain.sleep });
      // One connection, as a proxy's pool holds one to the pod.
      const agent = keepAliveAgent();
      expect(await get(`${url}/text`, agent).then((r) => [r.reused, r.connection])).toEqual([
        false,
        'keep-alive',
      ]);
      void runtime.shutdown();
      await drain.asked;
      // Readiness has turned and a round trip has passed: an idle connection closed at SIGTERM would be gone.
      expect((await call(`${adminUrl}/readyz`)).status).toBe(503);
      const during = await get(`${url}/text`, agent);
      expect([during.reused, during.status, during.connection]).toEqual([true, 200, 'close']);
    });

    it('after the drain refuses new connections, while a request in flight still completes', async () => {
      const drain = drainGate();
      const held = heldFunction();
      const { url, runtime, lines } = await start(drainConfig(200), { sleep: drain.sleep, load: held.load });
      const shutdown = runtime.shutdown();
      await drain.asked;
      const inFlight = get(`${url}/hold`, keepAliveAgent());
      await held.arrived;
      expect(await refusesConnections(url)).toBe(false);
      drain.end();
      await waitFor(() => refusesConnections(url));
      held.release();
      expect(await inFlight.then((r) => [r.status, r.body, r.connection])).toEqual([200, 'held', 'close']);
      expect(await shutdown).toBe(true);
      expect(lines.at(-1)).toMatchObject({ msg: 'shut down', drained: true });
    });

    it('cuts a request still in flight after the grace, and says so', async () => {
      const drain = drainGate();
      const held = heldFunction();
      const { url, runtime, lines } = await start(drainConfig(200), {
        sleep: drain.sleep,
        load: held.load,
        shutdownGraceMs: 100,
      });
      const shutdown = runtime.shutdown();
      const inFlight = get(`${url}/hold`, keepAliveAgent());
      await held.arrived;
      drain.end();
      expect(await shutdown).toBe(false);
      await expect(inFlight).rejects.toThrow(/socket hang up/);
      expect(lines.at(-1)).toMatchObject({ level: 40, msg: 'shut down', drained: false, graceMs: 100 });
      held.release();
    });

    it('waits out the drain period on the clock by default', async () => {
      const { url, runtime } = await start(drainConfig(200));
      const started = performance.now();
      const shutdown = runtime.shutdown();
      expect((await get(`${url}/text`, keepAliveAgent())).connection).toBe('close');
      expect(await shutdown).toBe(true);
      expect(performance.now() - started).toBeGreaterThanOrEqual(195);
      expect(await refusesConnections(url)).toBe(true);
    });

    it.each([
      ['the function failed to load', () => Promise.reject(new Error('no such export'))],
      ['the function is still loading', () => new Promise<FunctionHandler>(() => undefined)],
    ])('does not drain when %s', async (_case, load) => {
      const drain = drainGate();
      const { logger, lines } = capturingLogger();
      const runtime = await startRuntime(drainConfig(200), {
        logger,
        metrics: createRuntimeMetrics(),
        host: '127.0.0.1',
        load,
        sleep: drain.sleep,
      });
      expect(await runtime.shutdown()).toBe(true);
      expect(drain.calls).toEqual([]);
      expect(lines.map((l) => l.msg)).not.toContain(
        'draining: readiness false, serving with Connection: close',
      );
    });
  });

  it('never starts listening when shut down while the function loads', async () => {
    let release!: (handler: FunctionHandler) => void;
    const load = (): Promise<FunctionHandler> => new Promise((resolve) => (release = resolve));
    const { logger } = capturingLogger();
    const runtime = await startRuntime(drainConfig(200), {
      logger,
      metrics: createRuntimeMetrics(),
      host: '127.0.0.1',
      load,
    });
    expect(await runtime.shutdown()).toBe(true);
    release(async () => ({ status: 200, headers: {}, body: 'too late' }));
    await expect(runtime.ready).rejects.toThrow('shut down while the function was loading');
  });

  describe('inFlightGraceMs', () => {
    it.each([
      ['a short timeout, no drain: the default 25 s', 1000, 0, 25_000],
      ['a short timeout: what the drain leaves of 25 s', 1000, 5000, 20_000],
      ['a drain longer than 25 s: the timeout and a second', 1000, 60_000, 2000],
      ['the default timeout: the timeout and a second', 30_000, 5000, 31_000],
      ['a one-hour timeout', 3_600_000, 5000, 3_601_000],
    ])('for %s', (_case, timeoutMs, drainMs, expected) => {
      expect(inFlightGraceMs(timeoutMs, drainMs)).toBe(expected);
    });

    it.each([
      [1000, 0],
      [1000, 5000],
      [30_000, 5000],
      [30_000, 20_000],
      [3_600_000, 300_000],
    ])(
      'with a timeout of %i ms and a drain of %i ms, ends before the pod grace period',
      (timeoutMs, drainMs) => {
        const podGraceMs = Math.max(30, terminationGracePeriodSeconds(timeoutMs, drainMs)) * 1000;
        expect(drainMs + inFlightGraceMs(timeoutMs, drainMs)).toBeLessThan(podGraceMs);
      },
    );
  });
});
