import { describe, expect, it } from '@jest/globals';
import { fixture, incoming, testInfo, text } from '../testdata/request.js';
import { fissionAdapter, fromResult } from './fission.js';

describe('the fission signature', () => {
  it("answers Fission's hello example with Express' default type for strings", async () => {
    const handler = await fixture('fission', 'fission/nodejs/hello');
    expect(await handler(incoming())).toEqual({
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: 'hello, world!\n',
    });
  });

  it('gives context.request the method, url, query, parsed body and get()', async () => {
    const handler = await fixture('fission', 'fission/nodejs/echo.js');
    const res = await handler(
      incoming({
        method: 'POST',
        url: '/echo?a=1',
        headers: { 'content-type': 'application/json', 'x-test': 'yes' },
        body: { n: 2 },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers).toEqual({ 'x-fission': 'yes', 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(text(res.body))).toEqual({
      method: 'POST',
      url: '/echo?a=1',
      query: { a: '1' },
      body: { n: 2 },
      header: 'yes',
    });
  });

  it('gives a text body as a string (the word-count example)', async () => {
    const handler = await fixture('fission', 'fission/nodejs/wordcount.js');
    const res = await handler(
      incoming({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'one two  three\n' }),
    );
    expect(text(res.body)).toBe('3');
  });

  it('waits for callback(status, body, headers) when the function takes two parameters', async () => {
    const handler = await fixture('fission', 'fission/nodejs/callback.js');
    expect(await handler(incoming({ url: '/things' }))).toEqual({
      status: 201,
      headers: { 'content-type': 'text/plain' },
      body: 'created /things',
    });
  });

  it('uses what the function sent through context.response', async () => {
    const handler = await fixture('fission', 'fission/nodejs/response.js');
    expect(await handler(incoming())).toEqual({
      status: 202,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"via":"response"}',
    });
  });

  it('loads an ESM function', async () => {
    const handler = await fixture('fission', 'fission/esm/hello.mjs');
    expect(text((await handler(incoming({ method: 'PATCH' }))).body)).toBe('hello from esm PATCH');
  });

  it('rejects when a callback-style function throws synchronously', async () => {
    const handler = fissionAdapter((_c: unknown, _cb: unknown) => {
      throw new Error('sync');
    }, testInfo);
    await expect(handler(incoming())).rejects.toThrow('sync');
  });

  it('rejects when an async function returns nothing to answer with', async () => {
    const handler = fissionAdapter(async (_c: unknown) => undefined, testInfo);
    await expect(handler(incoming())).rejects.toThrow(
      'the fission function returned a undefined; expected { status, body, headers }',
    );
  });

  it.each([
    [{ body: 'no status' }, 200, 'no status'],
    [{ status: '404', body: { e: 1 } }, 404, '{"e":1}'],
    [{ status: 204 }, 204, ''],
  ])('maps %j to status %i', (result, status, body) => {
    const res = fromResult(result);
    expect([res.status, text(res.body)]).toEqual([status, body]);
  });
});
