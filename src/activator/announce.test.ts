import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { ANNOUNCE_FORWARDED_HEADER } from '../contract/announce.js';
import type { TokenPod } from '../kube/client.js';
import { functionPodObject } from '../testing/function-pod.js';
import { handleAnnounce, type AnnounceDeps } from './announce.js';
import { PodDirectory } from './pods.js';

const logger = pino({ level: 'silent' });
const BODY = JSON.stringify({ uid: 'u1', ip: '10.1.0.5' });
const AUTH = { authorization: 'Bearer tok' };
const pendingPod: V1Pod = functionPodObject({ uid: 'u1', name: 'hello-1', phase: 'Pending' });
const bound = (podUid: string, namespace = 'demo'): TokenPod => ({
  namespace,
  serviceAccount: 'default',
  podName: 'hello-1',
  podUid,
});

function deps(authenticate: AnnounceDeps['authenticate']) {
  const pods = new PodDirectory(() => Promise.resolve(true));
  pods.update(pendingPod);
  const forwarded: string[] = [];
  const all: AnnounceDeps = { pods, logger, authenticate, forward: (body) => forwarded.push(body) };
  return { all, forwarded };
}

describe('handleAnnounce', () => {
  it('takes an announcement the API server vouches for, and passes it on once', async () => {
    const { all, forwarded } = deps(() => Promise.resolve(bound('u1')));
    expect(await handleAnnounce(all, AUTH, BODY)).toEqual({ status: 202, message: 'taken' });
    expect(await handleAnnounce(all, { ...AUTH, [ANNOUNCE_FORWARDED_HEADER]: '1' }, BODY)).toEqual({
      status: 200,
      message: 'known',
    });
    expect(forwarded).toEqual([BODY]);
  });

  it('refuses a token of another pod, one the API server does not vouch for, and none', async () => {
    expect((await handleAnnounce(deps(() => Promise.resolve(bound('u2'))).all, AUTH, BODY)).status).toBe(403);
    const unknown = await handleAnnounce(deps(() => Promise.resolve(new Error('expired'))).all, AUTH, BODY);
    expect(unknown).toEqual({ status: 403, message: 'expired' });
    expect((await handleAnnounce(deps(() => Promise.resolve(bound('u1'))).all, {}, BODY)).status).toBe(401);
  });

  it('answers 400 for a malformed body, 409 for a pod it cannot place, 503 when the review fails', async () => {
    const ok = () => Promise.resolve(bound('u1'));
    expect((await handleAnnounce(deps(ok).all, AUTH, '{')).status).toBe(400);
    const other = JSON.stringify({ uid: 'u1', ip: '10.1.0.5' });
    const elsewhere = await handleAnnounce(
      deps(() => Promise.resolve(bound('u1', 'other'))).all,
      AUTH,
      other,
    );
    expect(elsewhere.status).toBe(409);
    const down = await handleAnnounce(
      deps(() => Promise.reject(new Error('connect ECONNREFUSED'))).all,
      AUTH,
      BODY,
    );
    expect(down.status).toBe(503);
    expect(down.message).toMatch(/ECONNREFUSED/);
  });
});
