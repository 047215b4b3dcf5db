import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from './backoff.js';
import { WorkQueue } from './queue.js';

describe('backoffDelay', () => {
  it.each([
    [0, 0],
    [1, 50],
    [2, 100],
    [5, 800],
    [20, 60_000],
    [5000, 60_000],
  ])('after %i failures waits %i ms', (failures, delay) => {
    expect(backoffDelay(failures, { baseMs: 50, maxMs: 60_000 })).toBe(delay);
  });
});

describe('WorkQueue', () => {
  it('holds a key once however often it is added', async () => {
    const queue = new WorkQueue();
    queue.add('a/x');
    queue.add('a/x');
    queue.add('a/y');
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe('a/x');
    expect(await queue.get()).toBe('a/y');
  });

  it('never hands out a key that is being processed; it comes back after done', async () => {
    const queue = new WorkQueue();
    queue.add('a/x');
    const key = await queue.get();
    queue.add('a/x');
    expect(queue.depth).toBe(0);
    let second: string | undefined;
    void queue.get().then((k) => (second = k));
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBeUndefined();
    queue.done(key!);
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBe('a/x');
  });

  it('hands a new key straight to a waiting worker', async () => {
    const queue = new WorkQueue();
    const next = queue.get();
    queue.add('a/z');
    expect(await next).toBe('a/z');
  });

  it('retries a failed key after a growing backoff and resets it on forget', () => {
    const queue = new WorkQueue({ baseMs: 10, maxMs: 1000 });
    expect(queue.addRateLimited('a/x')).toEqual({ delayMs: 10, failures: 1 });
    expect(queue.addRateLimited('a/x')).toEqual({ delayMs: 20, failures: 2 });
    queue.forget('a/x');
    expect(queue.addRateLimited('a/x')).toEqual({ delayMs: 10, failures: 1 });
    queue.shutDown();
  });

  it('delivers a delayed key once the delay passed', async () => {
    const queue = new WorkQueue();
    const started = Date.now();
    queue.addAfter('a/later', 30);
    expect(queue.depth).toBe(0);
    expect(await queue.get()).toBe('a/later');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('releases waiting workers with undefined on shutdown and accepts nothing after', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('a/x');
    expect(await queue.get()).toBeUndefined();
  });
});
