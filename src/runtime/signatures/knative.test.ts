import { describe, expect, it } from '@jest/globals';
import { fixture, incoming, testInfo, text } from '../testdata/request.js';
import { fromResult, knativeAdapter, knativeContext } from './knative.js';

const DEFAULTS = {
  'access-control-allow-methods': 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH',
  'access-control-allow-origin': '*',
};

describe('the knative signature', () => {
  describe("with func's Node.js HTTP template", () => {
    it('echoes a POSTed JSON body through { body }', async () => {
      const handler = await fixture('knative', 'knative/http');
      const res = await handler(
        incoming({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { name: 'ada' } }),
      );
      expect(res).toEqual({
        status: 200,
        headers: { ...DEFAULTS, 'content-type': 'application/json; charset=utf-8' },
        body: '{"name":"ada"}',
      });
    });

    it('answers a plain object as JSON, with query parameters also on the context', async () => {
      const handler = await fixture('knative', 'knative/http/index.js');
      const res = await handler(incoming({ url: '/?name=ada' }));
      expect(JSON.parse(text(res.body))).toEqual({ query: { name: 'ada' }, name: 'ada' });
    });

    it('uses statusCode, headers and a string body', async () => {
      const handler = await fixture('knative', 'knative/http/index.js');
      expect(await handler(incoming({ url: '/?status=202' }))).toEqual({
        status: 202,
        headers: { ...DEFAULTS, 'content-type': 'text/plain; charset=utf-8', 'x-custom': 'yes' },
        body: 'custom status',
      });
    });

    it('answers 204 when the function returns nothing', async () => {
      const handler = await fixture('knative', 'knative/http/index.js');
      expect(await handler(incoming({ url: '/?nothing=1' }))).toEqual({
        status: 204,
        headers: DEFAULTS,
        body: '',
      });
    });

    it('answers { statusCode: 405, statusMessage } as JSON with that status', async () => {
      const handler = await fixture('knative', 'knative/http/index.js');
      const res = await handler(incoming({ method: 'DELETE' }));
      expect([res.status, text(res.body)]).toEqual([
        405,
        '{"statusCode":405,"statusMessage":"Method not allowed"}',
      ]);
    });

    it('answers an error with a numeric code with that status and its message', async () => {
      const handler = await fixture('knative', 'knative/http/index.js');
      expect(await handler(incoming({ url: '/?fail=1' }))).toEqual({
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'no such item',
      });
    });
  });

  it('loads an ESM handle export and answers a string as text', async () => {
    const handler = await fixture('knative', 'knative/esm/index.js');
    const res = await handler(
      incoming({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { name: 'esm' } }),
    );
    expect([res.status, res.headers['content-type'], text(res.body)]).toEqual([
      200,
      'text/plain; charset=utf-8',
      'hello esm',
    ]);
  });

  describe('with CloudEvents', () => {
    it('passes a binary-mode event and answers a returned event in binary mode', async () => {
      const handler = await fixture('knative', 'knative/event/index.mjs');
      const res = await handler(
        incoming({
          method: 'POST',
          headers: {
            'ce-specversion': '1.0',
            'ce-id': '42',
            'ce-source': '/test',
            'ce-type': 'dev.test.ping',
            'content-type': 'application/json',
          },
          body: { n: 1 },
        }),
      );
      expect(res).toEqual({
        status: 200,
        headers: {
          ...DEFAULTS,
          'ce-specversion': '1.0',
          'ce-id': 'reply-42',
          'ce-source': '/cloudbase/test',
          'ce-type': 'dev.cloudbase.reply',
          'content-type': 'application/json',
        },
        body: '{"received":{"n":1},"type":"dev.test.ping"}',
      });
    });

    it('reads a structured-mode event', () => {
      const event = { specversion: '1.0', id: '1', source: '/s', type: 't', data: { a: 1 } };
      const context = knativeContext(
        incoming({
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: event,
        }),
      );
      expect(context.cloudevent).toEqual(event);
      expect(context.body).toEqual({ a: 1 });
    });
  });

  it.each([
    ['', 204, ''],
    [{ body: { a: 1 } }, 200, '{"a":1}'],
    [7, 200, '7'],
  ])('maps %j to status %i', (result, status, body) => {
    const res = fromResult(result);
    expect([res.status, text(res.body)]).toEqual([status, body]);
  });

  it('refuses a module without a handle function', () => {
    expect(() => knativeAdapter({ main: () => 1 }, testInfo)).toThrow(
      'the knative signature expects module.exports = { handle: async (context, body) => ... }, got an object with keys main',
    );
  });
});
