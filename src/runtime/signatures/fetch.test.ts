import { describe, expect, it } from '@jest/globals';
import { fixture, incoming, testInfo, text } from '../testdata/request.js';
import { fetchAdapter, fromFetchResult, toWebRequest, type FetchContext } from './fetch.js';

describe('the fetch signature', () => {
  describe('with an ESM function', () => {
    it.each([
      ['a Response', '/hello', 200, 'text/plain', 'hello from GET /hello'],
      ['a string as text/plain', '/text?name=ada', 200, 'text/plain; charset=utf-8', 'hello ada'],
      [
        'another value as JSON',
        '/json?name=ada',
        200,
        'application/json; charset=utf-8',
        '{"hello":"ada","function":"hello"}',
      ],
    ])('answers %s', async (_name, url, status, type, body) => {
      const handler = await fixture('fetch', 'fetch/esm/handler.js');
      const res = await handler(incoming({ url }));
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toBe(type);
      expect(text(res.body)).toBe(body);
    });

    it('answers 204 without a body when the function returns nothing', async () => {
      const handler = await fixture('fetch', 'fetch/esm/handler.js');
      expect(await handler(incoming({ url: '/empty' }))).toEqual({ status: 204, headers: {}, body: '' });
    });

    it('passes the method, headers and body as a WHATWG Request, and the request id in the context', async () => {
      const handler = await fixture('fetch', 'fetch/esm/handler.js');
      const res = await handler(
        incoming({
          method: 'POST',
          url: '/echo',
          headers: { 'content-type': 'application/json' },
          body: { a: 1 },
        }),
      );
      expect(res.status).toBe(201);
      expect(res.headers['x-handler']).toBe('esm');
      expect(JSON.parse(text(res.body))).toEqual({ received: { a: 1 }, method: 'POST', requestId: 'req-1' });
    });

    it('keeps every set-cookie header', async () => {
      const handler = await fixture('fetch', 'fetch/esm/handler.js');
      const res = await handler(incoming({ url: '/cookies' }));
      expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    });

    it('rejects when the function throws', async () => {
      const handler = await fixture('fetch', 'fetch/esm/handler.js');
      await expect(handler(incoming({ url: '/boom' }))).rejects.toThrow('boom');
    });

    it('calls a named export', async () => {
      const handler = await fixture('fetch', 'fetch/esm/handler.js', 'named');
      expect(text((await handler(incoming())).body)).toBe('named export');
    });
  });

  describe('with a CommonJS function', () => {
    it('calls module.exports', async () => {
      const handler = await fixture('fetch', 'fetch/cjs/handler.js');
      expect(text((await handler(incoming({ url: '/x' }))).body)).toBe('hello from cjs /x');
    });

    it('calls a property of module.exports', async () => {
      const handler = await fixture('fetch', 'fetch/cjs/handler.js', 'other');
      expect(text((await handler(incoming())).body)).toBe('{"from":"other"}');
    });
  });

  it('calls the fetch method of an exported object (Workers style) with the object as this', async () => {
    const handler = await fixture('fetch', 'fetch/worker/worker.mjs');
    expect(text((await handler(incoming({ method: 'DELETE' }))).body)).toBe('worker style DELETE');
  });

  it("hands the context the request's signal and logger only when the function reads them", async () => {
    const reads: string[] = [];
    const base = incoming();
    const req = Object.defineProperties(
      { ...base },
      {
        signal: { get: () => (reads.push('signal'), base.signal) },
        log: { get: () => (reads.push('log'), base.log) },
      },
    );
    let context: FetchContext | undefined;
    const handler = fetchAdapter(async (_request: Request, ctx: FetchContext) => {
      context = ctx;
      return 'ok';
    }, testInfo);
    await handler(req);
    expect(reads).toEqual([]);
    const { requestId, functionName, namespace, runtime, signal, log } = context!;
    expect([requestId, functionName, namespace, runtime, signal, log]).toEqual([
      'req-1',
      'hello',
      'demo',
      'nodejs22',
      base.signal,
      base.log,
    ]);
    expect(reads).toEqual(['signal', 'log']);
  });

  it('refuses an export that is neither a function nor has a fetch method', () => {
    expect(() => fetchAdapter({ handle: 1 }, testInfo)).toThrow(
      'the fetch signature expects a function (export default async (request, context) => Response) or an object with a fetch method, got an object with keys handle',
    );
  });

  describe('toWebRequest', () => {
    it('builds the URL from the forwarded host and protocol', () => {
      const req = toWebRequest(
        incoming({
          url: '/a?b=1',
          headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' },
        }),
      );
      expect(req.url).toBe('https://api.example.com/a?b=1');
    });

    it('falls back to localhost when the Host header is unusable', () => {
      expect(toWebRequest(incoming({ url: '/a', headers: { host: 'bad host' } })).url).toBe(
        'http://localhost/a',
      );
    });

    it.each([
      ['/a/b?c=1#x', 'fn.example.com', 'http://fn.example.com/a/b?c=1#x'],
      ['/a/../b', 'fn.example.com:8080', 'http://fn.example.com:8080/b'],
      ['//evil.example/x', 'fn.example.com', 'http://evil.example/x'],
      ['/\\evil.example/x', 'fn.example.com', 'http://evil.example/x'],
      ['/x', 'fn.example.com/y?', 'http://fn.example.com/x'],
      ['/x', '[::1]:8080', 'http://[::1]:8080/x'],
    ])('resolves %s against the host %s as the URL parser does', (url, host, expected) => {
      expect(toWebRequest(incoming({ url, headers: { host } })).url).toBe(expected);
      expect(new URL(url, `http://${host}`).href).toBe(expected);
    });

    it('keeps repeated headers apart', () => {
      const req = toWebRequest(incoming({ headers: { 'set-cookie': ['a=1', 'b=2'], accept: 'text/plain' } }));
      expect([req.headers.getSetCookie(), req.headers.get('accept')]).toEqual([['a=1', 'b=2'], 'text/plain']);
    });

    it("gives request.signal the runtime's signal, built only when read", () => {
      let reads = 0;
      const controller = new AbortController();
      const base = incoming();
      const req = toWebRequest(
        Object.defineProperty({ ...base }, 'signal', {
          get: () => {
            reads += 1;
            return controller.signal;
          },
        }),
      );
      expect(req).toBeInstanceOf(Request);
      expect(reads).toBe(0);
      controller.abort(new Error('timed out'));
      expect([req.signal.aborted, reads]).toEqual([true, 1]);
    });

    it('gives GET requests no body', () => {
      expect(toWebRequest(incoming({ method: 'GET', body: 'ignored' })).body).toBeNull();
    });
  });

  describe('fromFetchResult', () => {
    it.each([
      [null, 204, undefined, ''],
      [42, 200, 'application/json; charset=utf-8', '42'],
      [[1, 2], 200, 'application/json; charset=utf-8', '[1,2]'],
      [new Uint8Array([104, 105]), 200, 'application/octet-stream', 'hi'],
    ])('maps %p to %i', async (value, status, type, body) => {
      const res = await fromFetchResult(value);
      expect([res.status, res.headers['content-type'], text(res.body)]).toEqual([status, type, body]);
    });
  });
});
