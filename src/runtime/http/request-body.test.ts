import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { declaresBody, readBody, type BodyOutcome } from './request-body.js';

/** A request stream with headers; `send` writes the chunks and ends it (or fails it). */
function request(headers: Record<string, string>): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}

function read(req: ReturnType<typeof request>, limit: number): Promise<BodyOutcome[]> {
  const outcomes: BodyOutcome[] = [];
  return new Promise((resolve) => {
    readBody(req, limit, (outcome) => outcomes.push(outcome));
    // Settles after the stream has had a chance to deliver everything (and any second, wrong, call).
    setTimeout(() => resolve(outcomes), 20);
  });
}

describe('declaresBody', () => {
  it.each([
    [{}, false],
    [{ 'content-length': '0' }, false],
    [{ 'content-length': '12' }, true],
    [{ 'transfer-encoding': 'chunked' }, true],
  ])('%j → %s', (headers, expected) => {
    expect(declaresBody(headers)).toBe(expected);
  });
});

describe('readBody', () => {
  it('joins the chunks into one Buffer', async () => {
    const req = request({ 'transfer-encoding': 'chunked' });
    const outcomes = read(req, 10);
    req.write('hello ');
    req.end('you');
    expect(await outcomes).toEqual([{ ok: true, body: Buffer.from('hello you') }]);
  });

  it('accepts a body of exactly the limit', async () => {
    const req = request({ 'content-length': '4' });
    const outcomes = read(req, 4);
    req.end('four');
    expect(await outcomes).toEqual([{ ok: true, body: Buffer.from('four') }]);
  });

  it('refuses a declared length over the limit without reading', async () => {
    const req = request({ 'content-length': '5' });
    expect(await read(req, 4)).toEqual([
      { ok: false, status: 413, message: 'Payload Too Large: the request body exceeds the limit of 4 bytes' },
    ]);
    expect(req.listenerCount('data')).toBe(0);
  });

  it('refuses a chunked body once it passes the limit, answering once', async () => {
    const req = request({ 'transfer-encoding': 'chunked' });
    const outcomes = read(req, 4);
    req.write('abc');
    req.write('de');
    req.end('more');
    expect(await outcomes).toEqual([
      { ok: false, status: 413, message: 'Payload Too Large: the request body exceeds the limit of 4 bytes' },
    ]);
  });

  it('answers 400 when the body breaks off', async () => {
    const req = request({ 'content-length': '10' });
    const outcomes = read(req, 100);
    req.write('abc');
    req.destroy(new Error('aborted'));
    expect(await outcomes).toEqual([
      { ok: false, status: 400, message: 'Bad Request: the request body was not received completely' },
    ]);
  });
});
