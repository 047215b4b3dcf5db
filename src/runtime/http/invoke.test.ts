import { describe, expect, it } from '@jest/globals';
import { ClientError } from '../model.js';
import { incoming } from '../testdata/request.js';
import { invokeWithTimeout, outcomeOfError, RequestAbort, writableHeaders } from './invoke.js';

describe('invokeWithTimeout', () => {
  it("returns the function's answer", async () => {
    const response = { status: 200, headers: {}, body: 'ok' };
    expect(await invokeWithTimeout(async () => response, incoming(), 1000, new AbortController())).toEqual({
      kind: 'answered',
      response,
    });
  });

  it('answers 504 and aborts the signal when the function is too slow', async () => {
    const controller = new AbortController();
    const outcome = await invokeWithTimeout(() => new Promise(() => undefined), incoming(), 20, controller);
    expect(outcome).toEqual({
      kind: 'timeout',
      response: {
        status: 504,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'Gateway Timeout: the function did not answer within 20 ms',
      },
    });
    expect(controller.signal.aborted).toBe(true);
  });

  it('answers 500 without details when the function throws, keeping the error for the log', async () => {
    const error = new Error('secret detail');
    const outcome = await invokeWithTimeout(
      async () => {
        throw error;
      },
      incoming(),
      1000,
      new AbortController(),
    );
    expect(outcome).toEqual({
      kind: 'exception',
      error,
      response: {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'Internal Server Error',
      },
    });
  });
  it('answers 500 when the function throws before returning a promise', async () => {
    const outcome = await invokeWithTimeout(
      () => {
        throw new Error('sync');
      },
      incoming(),
      1000,
      new AbortController(),
    );
    expect(outcome.kind).toBe('exception');
  });
});

describe('RequestAbort', () => {
  it('builds no signal until one is read', () => {
    const abort = new RequestAbort();
    const signal = abort.signal;
    expect(signal.aborted).toBe(false);
    abort.abort(new Error('gone'));
    expect([signal.aborted, (signal.reason as Error).message]).toEqual([true, 'gone']);
  });

  it('hands out an aborted signal when aborted before anyone asked', () => {
    const abort = new RequestAbort();
    abort.abort(new Error('timed out'));
    abort.abort(new Error('later'));
    expect([abort.signal.aborted, (abort.signal.reason as Error).message]).toEqual([true, 'timed out']);
  });
});

describe('outcomeOfError', () => {
  it('passes a 4xx client error to the client', () => {
    expect(outcomeOfError(new ClientError(400, 'Bad Request: nope'))).toEqual({
      kind: 'client-error',
      response: {
        status: 400,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'Bad Request: nope',
      },
    });
  });

  it('hides anything that is not a 4xx', () => {
    expect(outcomeOfError(new ClientError(503, 'leak')).kind).toBe('exception');
    expect(outcomeOfError('a string').response.body).toBe('Internal Server Error');
  });
});

describe('writableHeaders', () => {
  it('drops hop-by-hop headers and the length', () => {
    expect(
      writableHeaders({
        'Content-Length': '3',
        connection: 'close',
        'transfer-encoding': 'chunked',
        'x-a': '1',
        'set-cookie': ['a', 'b'],
      }),
    ).toEqual({
      'x-a': '1',
      'set-cookie': ['a', 'b'],
    });
  });
});
