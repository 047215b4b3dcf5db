import { describe, expect, it } from '@jest/globals';
import type { TokenUser } from '../kube/client.js';
import { PublishAuthorizer, type PublishAuthorizerDeps } from './authorize.js';

const alice: TokenUser = { username: 'system:serviceaccount:shop:publisher', groups: [], extra: {} };

function authorizer(overrides: Partial<PublishAuthorizerDeps> = {}): {
  authorizer: PublishAuthorizer;
  calls: { review: number; access: number };
  clock: { now: number };
} {
  const calls = { review: 0, access: 0 };
  const clock = { now: 0 };
  return {
    calls,
    clock,
    authorizer: new PublishAuthorizer({
      review: async (token) => {
        calls.review += 1;
        return token === 'good' ? alice : new Error('the API server did not authenticate the token: expired');
      },
      access: async (_user, namespace) => {
        calls.access += 1;
        return namespace === 'shop' ? undefined : `alice may not create events in namespace ${namespace}`;
      },
      now: () => clock.now,
      ...overrides,
    }),
  };
}

describe('PublishAuthorizer', () => {
  it('allows a token the API server vouches for into a namespace it may publish to', async () => {
    const { authorizer: a } = authorizer();
    expect(await a.authorize('Bearer good', 'shop')).toEqual({ ok: true, user: alice.username });
  });

  it.each([
    [undefined, 401, 'Authorization: Bearer <token>'],
    ['Basic abc', 401, 'Authorization: Bearer <token>'],
    ['Bearer bad', 401, 'expired'],
  ])('refuses the header %s with %s', async (header, status, message) => {
    const { authorizer: a } = authorizer();
    const decision = await a.authorize(header, 'shop');
    expect(decision).toMatchObject({ ok: false, status });
    expect(decision.ok ? '' : decision.message).toContain(message);
  });

  it('refuses a namespace the user may not publish to with 403, naming the role that grants it', async () => {
    const { authorizer: a } = authorizer();
    const decision = await a.authorize('Bearer good', 'bank');
    expect(decision).toMatchObject({ ok: false, status: 403 });
    expect(decision.ok ? '' : decision.message).toContain('cloudbase-events-publisher');
  });

  it('keeps an allowed answer for 10 s and a refused one for 2 s', async () => {
    const { authorizer: a, calls, clock } = authorizer();
    await a.authorize('Bearer good', 'shop');
    await a.authorize('Bearer good', 'bank');
    clock.now = 1_999;
    await a.authorize('Bearer good', 'shop');
    await a.authorize('Bearer good', 'bank');
    expect(calls.access).toBe(2);
    clock.now = 2_000;
    await a.authorize('Bearer good', 'bank');
    expect(calls.access).toBe(3);
    clock.now = 9_999;
    await a.authorize('Bearer good', 'shop');
    expect(calls.access).toBe(3);
    clock.now = 10_000;
    await a.authorize('Bearer good', 'shop');
    expect(calls.access).toBe(4);
  });

  it('asks once for concurrent requests with the same token and namespace', async () => {
    const { authorizer: a, calls } = authorizer();
    await Promise.all([1, 2, 3].map(() => a.authorize('Bearer good', 'shop')));
    expect(calls.review).toBe(1);
  });

  it('does not keep a failure to ask the API server', async () => {
    let fail = true;
    const { authorizer: a, calls } = authorizer({
      review: async () => {
        calls.review += 1;
        if (fail) throw new Error('connection refused');
        return alice;
      },
    });
    await expect(a.authorize('Bearer good', 'shop')).rejects.toThrow('connection refused');
    fail = false;
    expect(await a.authorize('Bearer good', 'shop')).toMatchObject({ ok: true });
    expect(calls.review).toBe(2);
  });

  it('keeps at most maxEntries answers, forgetting the oldest', async () => {
    const { authorizer: a, calls } = authorizer({ maxEntries: 2 });
    for (const namespace of ['shop', 'bank', 'mail']) await a.authorize('Bearer good', namespace);
    await a.authorize('Bearer good', 'mail');
    expect(calls.access).toBe(3);
    await a.authorize('Bearer good', 'shop');
    expect(calls.access).toBe(4);
  });
});
