import { describe, expect, it } from '@jest/globals';
import { fixture, incoming, testInfo, text } from '../testdata/request.js';
import { kubelessAdapter, kubelessContext, kubelessEvent } from './kubeless.js';

const CORS = { 'access-control-allow-origin': '*' };

describe('the kubeless signature', () => {
  it('echoes JSON event.data as JSON', async () => {
    const handler = await fixture('kubeless', 'kubeless/nodejs/handler.js', 'foo');
    const res = await handler(
      incoming({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { hello: 'world' } }),
    );
    expect(res).toEqual({
      status: 200,
      headers: { ...CORS, 'content-type': 'application/json; charset=utf-8' },
      body: '{"hello":"world"}',
    });
  });

  it('gives a non-JSON body as text and sends a string result as is', async () => {
    const handler = await fixture('kubeless', 'kubeless/nodejs/handler.js', 'hello');
    const res = await handler(
      incoming({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'kubeless' }),
    );
    expect(res).toEqual({
      status: 200,
      headers: { ...CORS, 'content-type': 'text/plain; charset=utf-8' },
      body: 'hello kubeless',
    });
  });

  it('exposes the event attributes, the request and the function context', async () => {
    const handler = await fixture('kubeless', 'kubeless/nodejs/handler.js', 'info', {
      ...testInfo,
      timeoutMs: 180_000,
    });
    const res = await handler(
      incoming({
        url: '/p?q=1',
        headers: {
          'event-id': 'abc',
          'event-type': 'application/json',
          'event-time': '2009-11-10 23:00:00 +0000 UTC',
          'event-namespace': 'cli.kubeless.io',
        },
      }),
    );
    expect(JSON.parse(text(res.body))).toEqual({
      functionName: 'hello',
      timeout: 180,
      runtime: 'nodejs22',
      eventId: 'abc',
      eventType: 'application/json',
      eventTime: '2009-11-10 23:00:00 +0000 UTC',
      eventNamespace: 'cli.kubeless.io',
      path: '/p',
    });
  });

  it('uses what the function wrote to event.extensions.response', async () => {
    const handler = await fixture('kubeless', 'kubeless/nodejs/handler.js', 'teapot');
    expect(await handler(incoming())).toEqual({
      status: 418,
      headers: CORS,
      body: Buffer.from('I am a teapot'),
    });
  });

  it('calls module.exports when it is itself a function', async () => {
    const handler = await fixture('kubeless', 'kubeless/nodejs/single.js', 'anything');
    expect(
      text(
        (await handler(incoming({ method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })))
          .body,
      ),
    ).toBe('{"single":true,"data":"x"}');
  });

  it('loads a named ESM export', async () => {
    const handler = await fixture('kubeless', 'kubeless/esm/handler.mjs', 'hello');
    const res = await handler(
      incoming({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { name: 'ada' } }),
    );
    expect(text(res.body)).toBe('hello esm ada');
  });

  it('answers undefined with an empty 200', async () => {
    const handler = kubelessAdapter(() => undefined, testInfo);
    expect(await handler(incoming())).toEqual({ status: 200, headers: CORS, body: '' });
  });

  it('answers a CORS preflight without calling the function', async () => {
    const handler = kubelessAdapter(() => {
      throw new Error('must not be called');
    }, testInfo);
    const res = await handler(
      incoming({
        method: 'OPTIONS',
        headers: { 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-a' },
      }),
    );
    expect(res).toEqual({
      status: 200,
      headers: { ...CORS, 'access-control-allow-methods': 'PUT', 'access-control-allow-headers': 'x-a' },
      body: '',
    });
  });

  it.each([
    ['no body', {}, Buffer.alloc(0), {}],
    ['a JSON body', { 'content-type': 'application/json' }, Buffer.from('[1]'), [1]],
    ['a binary body', { 'content-type': 'application/octet-stream' }, Buffer.from('ab'), 'ab'],
    [
      'a multipart body',
      { 'content-type': 'multipart/form-data; boundary=x' },
      Buffer.from('--x'),
      Buffer.from('--x'),
    ],
  ])('decodes %s into event.data', (_name, headers, body, data) => {
    expect(kubelessEvent(incoming({ method: 'POST', headers, body })).data).toEqual(data);
  });

  it('reports the memory limit in bytes, as text', () => {
    expect(kubelessContext(testInfo)).toEqual({
      'function-name': 'hello',
      timeout: 30,
      runtime: 'nodejs22',
      'memory-limit': '134217728',
    });
  });
});
