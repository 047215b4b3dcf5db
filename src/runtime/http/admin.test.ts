import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { adminAnswer, type AdminServerOptions } from './admin.js';
import { createRuntimeMetrics } from './metrics.js';

function options(ready: boolean): AdminServerOptions {
  return {
    logger: pino({ level: 'silent' }),
    metrics: createRuntimeMetrics(),
    readiness: () => ({ ready, reason: ready ? 'ready' : 'loading index.js' }),
  };
}

const TEXT = 'text/plain; charset=utf-8';

describe('adminAnswer', () => {
  it.each([
    ['GET', '/livez', true, 200, 'ok'],
    ['HEAD', '/livez', true, 200, 'ok'],
    ['GET', '/livez?probe=1', true, 200, 'ok'],
    ['GET', '/readyz', true, 200, 'ready'],
    ['GET', '/readyz', false, 503, 'loading index.js'],
  ])('%s %s (ready: %s) → %i %s', async (method, url, ready, status, body) => {
    expect(await adminAnswer(options(ready), method, url)).toEqual({ status, type: TEXT, body });
  });

  it('names its pod UID in /readyz, so that a prober that found it by IP knows whom it reached', async () => {
    const answer = await adminAnswer({ ...options(false), podUid: 'c0ffee-1' }, 'GET', '/readyz');
    expect(answer).toEqual({
      status: 503,
      type: TEXT,
      body: 'loading index.js',
      headers: { 'x-cloudbase-pod-uid': 'c0ffee-1' },
    });
  });

  it('serves the Prometheus text format', async () => {
    const answer = await adminAnswer(options(true), 'GET', '/metrics');
    expect([answer.status, answer.type]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    expect(answer.body).toContain('# TYPE cloudbase_runtime_cold_start_seconds gauge');
  });

  it('serves the autoscaler its stats as JSON', async () => {
    const opts = options(true);
    opts.metrics.concurrency.started(performance.now());
    const answer = await adminAnswer(opts, 'GET', '/stats');
    expect([answer.status, answer.type]).toEqual([200, 'application/json; charset=utf-8']);
    expect(JSON.parse(answer.body)).toEqual({
      at: expect.any(Number),
      inFlight: 1,
      concurrencySeconds: expect.any(Number),
      requests: 0,
    });
  });

  it.each([
    ['GET', '/nope?x=1'],
    ['POST', '/livez'],
    ['GET', '/livez/'],
  ])('answers %s %s with a JSON 404 naming the route', async (method, url) => {
    expect(await adminAnswer(options(true), method, url)).toEqual({
      status: 404,
      type: 'application/json; charset=utf-8',
      body: JSON.stringify({
        message: `Route ${method}:${url} not found`,
        error: 'Not Found',
        statusCode: 404,
      }),
    });
  });
});
