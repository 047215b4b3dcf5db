import { describe, expect, it } from '@jest/globals';
import { fixture, incoming, testInfo, text } from '../testdata/request.js';
import { openfaasAdapter, openfaasEvent } from './openfaas.js';

describe('the openfaas signature', () => {
  describe("with the node20 template's example function", () => {
    it('receives a JSON body parsed and answers the result as JSON', async () => {
      const handler = await fixture('openfaas', 'openfaas/node20/handler.js');
      const res = await handler(
        incoming({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { name: 'ada' } }),
      );
      expect(res).toEqual({
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ body: '{"name":"ada"}', 'content-type': 'application/json' }),
      });
    });

    it('receives a body without content type as text, as the template defaults it to text/plain', async () => {
      const handler = await fixture('openfaas', 'openfaas/node20');
      const res = await handler(incoming({ method: 'POST', body: 'plain words' }));
      expect(JSON.parse(text(res.body))).toEqual({ body: '"plain words"' });
    });
  });

  describe('with the chainable context', () => {
    it.each([
      [
        'status and headers then succeed',
        '/missing',
        404,
        { 'content-type': 'application/json' },
        '{"message":"The record requested was not found."}',
      ],
      [
        'headers then status then a string',
        '/redirect',
        307,
        { location: 'https://example.com/', 'content-type': 'text/html; charset=utf-8' },
        'Page has moved.',
      ],
      ['fail', '/fail', 500, { 'content-type': 'text/html; charset=utf-8' }, 'Unable to process this event.'],
      [
        'a value resolved later',
        '/callback',
        200,
        { 'content-type': 'application/json; charset=utf-8' },
        '{"late":true}',
      ],
    ])('answers %s', async (_name, url, status, headers, body) => {
      const handler = await fixture('openfaas', 'openfaas/node20/routes.js');
      expect(await handler(incoming({ url }))).toEqual({ status, headers, body });
    });

    it('treats a returned value as success with the event fields', async () => {
      const handler = await fixture('openfaas', 'openfaas/node20/routes.js');
      const res = await handler(
        incoming({
          method: 'PUT',
          url: '/items?id=7&tag=a&tag=b',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'x=1',
        }),
      );
      expect(res.status).toBe(200);
      expect(JSON.parse(text(res.body))).toEqual({
        method: 'PUT',
        path: '/items',
        query: { id: '7', tag: ['a', 'b'] },
        body: { x: '1' },
      });
    });

    it('rejects when the function throws (the HTTP layer answers 500)', async () => {
      const handler = await fixture('openfaas', 'openfaas/node20/routes.js');
      await expect(handler(incoming({ url: '/throw' }))).rejects.toThrow('database down');
    });
  });

  it('loads an ESM function', async () => {
    const handler = await fixture('openfaas', 'openfaas/esm/handler.mjs');
    const res = await handler(
      incoming({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { name: 'x' } }),
    );
    expect([res.status, text(res.body)]).toEqual([201, 'created x']);
  });

  it('answers with the first succeed only', async () => {
    const handler = openfaasAdapter(async (_e: unknown, ctx: { succeed(v: unknown): void }) => {
      ctx.succeed('first');
      ctx.succeed('second');
      return 'third';
    }, testInfo);
    expect(text((await handler(incoming())).body)).toBe('first');
  });

  it('supports the optional callback(err, result)', async () => {
    const handler = openfaasAdapter((_e: unknown, _c: unknown, cb: (err: unknown, v?: unknown) => void) => {
      cb(undefined, { result: 'message received' });
      return undefined;
    }, testInfo);
    expect(text((await handler(incoming())).body)).toBe('{"result":"message received"}');
  });

  it('gives an empty body as {} like body-parser', () => {
    expect(openfaasEvent(incoming()).body).toEqual({});
  });

  it('answers 400 for malformed JSON', async () => {
    const handler = await fixture('openfaas', 'openfaas/node20/handler.js');
    await expect(
      handler(incoming({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/^Bad Request: the body is not valid JSON/),
    });
  });

  it('refuses a module that does not export a function', () => {
    expect(() => openfaasAdapter({ handler: () => 1 }, testInfo)).toThrow(
      'the openfaas signature expects module.exports = async (event, context) => ..., got an object with keys handler',
    );
  });
});
