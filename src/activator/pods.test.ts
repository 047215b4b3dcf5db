import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { FunctionPod } from '../scaling/pods.js';
import { functionPodObject } from '../testing/function-pod.js';
import { PodDirectory } from './pods.js';

const KEY = 'demo/hello';

function pod(uid: string, ip: string | undefined, ready = false, namespace = 'demo'): V1Pod {
  return functionPodObject({ uid, namespace, phase: 'Pending', ready, ...(ip === undefined ? {} : { ip }) });
}

/** A probe that answers as `answer` says, recording what it was asked. */
function recordingProbe(answer: (pod: FunctionPod, uid?: string) => boolean) {
  const asked: { ip: string; uid: string | undefined }[] = [];
  const probe = (target: FunctionPod, uid?: string): Promise<boolean> => {
    asked.push({ ip: target.ip, uid });
    return Promise.resolve(answer(target, uid));
  };
  return { asked, probe };
}

const wait = (pods: PodDirectory, ms = 2000) => pods.wait(KEY, ms, new AbortController().signal);

describe('PodDirectory announcements', () => {
  it('sends a held request to an announced pod once its /readyz names its UID', async () => {
    const { asked, probe } = recordingProbe((_, uid) => uid === 'u1');
    const pods = new PodDirectory(probe);
    pods.update(pod('u1', undefined));
    const held = wait(pods);
    expect(pods.announce({ uid: 'u1', namespace: 'demo', ip: '10.1.0.5' })).toBe('taken');
    expect((await held)?.ip).toBe('10.1.0.5');
    expect(asked[0]).toEqual({ ip: '10.1.0.5', uid: 'u1' });
  });

  it('keeps holding while the announced address answers without the pod UID', async () => {
    const { asked, probe } = recordingProbe((_, uid) => uid === undefined);
    const pods = new PodDirectory(probe);
    pods.update(pod('u1', undefined));
    const held = wait(pods, 150);
    pods.announce({ uid: 'u1', namespace: 'demo', ip: '10.1.0.5' });
    expect(await held).toBeUndefined();
    expect(asked.length).toBeGreaterThan(1);
  });

  it('refuses a pod it does not know, one in another namespace, and another address than the status', () => {
    const pods = new PodDirectory(recordingProbe(() => true).probe);
    expect(pods.announce({ uid: 'nobody', namespace: 'demo', ip: '10.1.0.5' })).toBeInstanceOf(Error);
    pods.update(pod('u1', undefined));
    expect(pods.announce({ uid: 'u1', namespace: 'other', ip: '10.1.0.5' })).toBeInstanceOf(Error);
    pods.update(pod('u2', '10.1.0.9'));
    expect(pods.announce({ uid: 'u2', namespace: 'demo', ip: '10.1.0.9' })).toBe('known');
    expect(pods.announce({ uid: 'u2', namespace: 'demo', ip: '10.1.0.10' })).toBeInstanceOf(Error);
  });

  it('lets the status overrule an announced address, and forgets a deleted pod', async () => {
    const pods = new PodDirectory(recordingProbe(() => true).probe);
    pods.update(pod('u1', undefined));
    pods.announce({ uid: 'u1', namespace: 'demo', ip: '10.1.0.5' });
    // A status change without an IP keeps the announced address.
    pods.update(pod('u1', undefined));
    expect(pods.announce({ uid: 'u1', namespace: 'demo', ip: '10.1.0.5' })).toBe('known');
    pods.update(pod('u1', '10.1.0.6', true));
    expect(pods.pick(KEY)?.ip).toBe('10.1.0.6');
    pods.remove(pod('u1', '10.1.0.6'));
    expect(pods.pick(KEY)).toBeUndefined();
    expect(pods.announce({ uid: 'u1', namespace: 'demo', ip: '10.1.0.6' })).toBeInstanceOf(Error);
  });

  it('does not hand out an announced pod that nobody probed', () => {
    const pods = new PodDirectory(recordingProbe(() => true).probe);
    pods.update(pod('u1', undefined));
    pods.announce({ uid: 'u1', namespace: 'demo', ip: '10.1.0.5' });
    expect(pods.pick(KEY)).toBeUndefined();
  });
});
