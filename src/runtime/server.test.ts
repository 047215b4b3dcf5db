import { afterEach, describe, expect, it } from '@jest/globals';
import { pino, type Logger } from 'pino';
import type { Signature } from '../contract/function-spec.js';
import type { RuntimeConfig } from './config.js';
import { createRuntimeMetrics } from './http/metrics.js';
import type { FunctionHandler } from './model.js';
import { loadFunction } from './serve.js';
import { startRuntime, type RunningRuntime } from './server.js';
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
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.shutdown()));
});

/** Starts the runtime on 127.0.0.1 with ephemeral ports and waits until it is ready. */
async function start(
  cfg: RuntimeConfig,
  load?: () => Promise<FunctionHandler>,
): Promise<{ url: string; adminUrl: string; runtime: RunningRuntime; lines: LogLine[] }> {
  const { logger, lines } = capturingLogger();
  const runtime = await startRuntime(cfg, {
    logger,
    metrics: createRuntimeMetrics(),
    host: '127.0.0.1',
    load: load ?? (() => loadFunction(cfg, undefined, logger)),
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
    it('keeps serving, not ready, with Connection: close, for the drain period, then closes', async () => {
      const { url, adminUrl, runtime, lines } = await start(
        config('fetch', 'fetch/esm/handler.js', undefined, { drainMs: 400 }),
      );
      running.splice(running.indexOf(runtime), 1);
      // A keep-alive connection opened before the signal, as a proxy's pool holds one.
      const before = await call(`${url}/text`);
      expect(before.headers.get('connection')).toBe('keep-alive');
      const started = Date.now();
      const shutdown = runtime.shutdown();
      expect(await call(`${adminUrl}/readyz`).then((r) => [r.status, r.body])).toEqual([
        503,
        'shutting down',
      ]);
      // Still answered during the drain, on the kept connection and on new ones alike: each says close.
      for (let i = 0; i < 3; i += 1) {
        const during = await call(`${url}/text`);
        expect([during.status, during.headers.get('connection')]).toEqual([200, 'close']);
      }
      const inFlight = call(`${url}/slow?ms=600`);
      await shutdown;
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(await inFlight.then((r) => [r.status, r.body])).toEqual([200, 'slow done']);
      await expect(fetch(`${url}/text`)).rejects.toThrow();
      expect(lines.map((l) => l['msg'])).toContain(
        'draining: readiness false, serving with Connection: close',
      );
    });

    it('refuses new connections once the drain is over, while an in-flight request still completes', async () => {
      const { url, runtime } = await start(
        config('fetch', 'fetch/esm/handler.js', undefined, { drainMs: 200 }),
      );
      running.splice(running.indexOf(runtime), 1);
      const shutdown = runtime.shutdown();
      const inFlight = call(`${url}/slow?ms=700`);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await expect(fetch(`${url}/text`)).rejects.toThrow();
      expect(await inFlight.then((r) => r.status)).toBe(200);
      expect(await shutdown).toBe(true);
    });
  });
});
