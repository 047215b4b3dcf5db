import { describe, expect, it } from '@jest/globals';
import { ClientError } from '../model.js';
import { incoming } from '../testdata/request.js';
import { invokeWithTimeout, outcomeOfError, RequestAbort } from './invoke.js';

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

  it('starts watching once, when the signal is first read', () => {
    const watched: RequestAbort[] = [];
    const abort = new RequestAbort((a) => watched.push(a));
    expect(watched).toEqual([]);
    void abort.signal;
    void abort.signal;
    expect(watched).toEqual([abort]);
  });

  it('lets the watcher abort at once, e.g. when the client is already gone', () => {
    const abort = new RequestAbort((a) => a.abort(new Error('the client closed the connection')));
    expect([abort.signal.aborted, (abort.signal.reason as Error).message]).toEqual([
      true,
      'the client closed the connection',
    ]);
  });

  it('does not watch a request that was aborted before anyone asked', () => {
    const watched: RequestAbort[] = [];
    const abort = new RequestAbort((a) => watched.push(a));
    abort.abort(new Error('timed out'));
    expect([abort.signal.aborted, watched]).toEqual([true, []]);
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
