import { describe, expect, it } from '@jest/globals';
import {
  busIdentityOf,
  busPermissions,
  busSessionEnd,
  functionInboxPrefix,
  MAX_BUS_SESSION_SECONDS,
  parseServiceAccountRef,
  type BusRoles,
} from './bus-access.js';

const roles: BusRoles = {
  admins: ['cloudbase-system:cloudbase'],
  publishers: ['cloudbase-system:cloudbase-ingest'],
};
const boundToken = { namespace: 'shop', serviceAccount: 'default', podName: 'orders-1', podUid: 'u1' };
const functionPod = { uid: 'u1', labels: { 'cloudbase.dev/function': 'orders' } };

function jwtWith(payload: object): string {
  return `x.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.y`;
}

describe('busIdentityOf', () => {
  it("knows Cloudbase's own accounts, bound to a pod or not", () => {
    expect(
      busIdentityOf({ namespace: 'cloudbase-system', serviceAccount: 'cloudbase' }, undefined, roles),
    ).toEqual({
      kind: 'admin',
    });
    expect(
      busIdentityOf(
        { ...boundToken, namespace: 'cloudbase-system', serviceAccount: 'cloudbase-ingest' },
        undefined,
        roles,
      ),
    ).toEqual({ kind: 'publisher' });
  });

  it("makes a token bound to a live function pod that function, in the token's namespace", () => {
    expect(busIdentityOf(boundToken, functionPod, roles)).toEqual({
      kind: 'function',
      namespace: 'shop',
      name: 'orders',
    });
  });

  it.each([
    [
      'a token bound to no pod',
      { namespace: 'shop', serviceAccount: 'default' },
      functionPod,
      /not bound to a pod/,
    ],
    [
      'a pod that is gone',
      boundToken,
      undefined,
      /pod shop\/orders-1, which the token is bound to, does not exist/,
    ],
    [
      'a new pod of the same name',
      boundToken,
      { ...functionPod, uid: 'u2' },
      /earlier pod named shop\/orders-1/,
    ],
    ['a pod without the label', boundToken, { uid: 'u1', labels: {} }, /not a Cloudbase function's pod/],
    [
      'an empty label',
      boundToken,
      { uid: 'u1', labels: { 'cloudbase.dev/function': '' } },
      /no cloudbase.dev\/function/,
    ],
  ])('refuses %s, saying why', (_what, token, pod, reason) => {
    const identity = busIdentityOf(token, pod, roles);
    expect(identity).toBeInstanceOf(Error);
    expect((identity as Error).message).toMatch(reason);
  });

  it('does not take a same-named account of another namespace for an admin', () => {
    expect(
      busIdentityOf({ namespace: 'shop', serviceAccount: 'cloudbase' }, undefined, roles),
    ).toBeInstanceOf(Error);
  });
});

describe('busPermissions', () => {
  it('lets a function read, pull and ack only its consumer, publish only in its namespace and its dead letters', () => {
    expect(busPermissions({ kind: 'function', namespace: 'shop', name: 'orders' })).toEqual({
      publish: [
        '$JS.API.CONSUMER.INFO.CLOUDBASE_EVENTS.shop_orders',
        '$JS.API.CONSUMER.MSG.NEXT.CLOUDBASE_EVENTS.shop_orders',
        '$JS.ACK.CLOUDBASE_EVENTS.shop_orders.>',
        'cloudbase.events.shop.>',
        'cloudbase.deadletter.shop.orders',
      ],
      subscribe: ['_INBOX_shop_orders.>'],
    });
    expect(functionInboxPrefix('shop', 'orders')).toBe('_INBOX_shop_orders');
  });

  it('lets the ingest publish events and read consumers, and nothing that changes the streams', () => {
    const { publish, subscribe } = busPermissions({ kind: 'publisher' });
    expect(publish).toContain('cloudbase.events.>');
    expect(
      publish.filter((subject) => /DELETE|CREATE|UPDATE|PURGE|>$/.test(subject) && subject.startsWith('$JS')),
    ).toEqual([]);
    expect(subscribe).toEqual(['_INBOX_cloudbase_ingest.>']);
  });
});

describe('busSessionEnd', () => {
  it.each([
    ["the token's expiry", jwtWith({ exp: 1_600 }), 1_600],
    [
      'at most the longest session',
      jwtWith({ exp: 1_000 + MAX_BUS_SESSION_SECONDS + 5 }),
      1_000 + MAX_BUS_SESSION_SECONDS,
    ],
    ['the longest session for a token without exp', jwtWith({ sub: 'x' }), 1_000 + MAX_BUS_SESSION_SECONDS],
    ['the longest session for what is no JWT', 'opaque', 1_000 + MAX_BUS_SESSION_SECONDS],
    ['the longest session for an unreadable payload', 'a.!!!.c', 1_000 + MAX_BUS_SESSION_SECONDS],
  ])('is %s', (_what, token, end) => {
    expect(busSessionEnd(token, 1_000)).toBe(end);
  });
});

describe('parseServiceAccountRef', () => {
  it.each([
    ['cloudbase-system:cloudbase', 'cloudbase-system:cloudbase'],
    [' a:b.c ', 'a:b.c'],
  ])('reads %j', (value, ref) => {
    expect(parseServiceAccountRef(value)).toBe(ref);
  });

  it.each(['cloudbase', 'a:', ':b', 'A:b', 'a:b:c'])('refuses %j naming the expected shape', (value) => {
    expect((parseServiceAccountRef(value) as Error).message).toMatch(/expected <namespace>:<name>/);
  });
});
