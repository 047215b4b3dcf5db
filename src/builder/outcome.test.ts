import { describe, expect, it } from '@jest/globals';
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import { buildOutcome } from './outcome.js';

const IMAGE = `r/demo/hello@sha256:${'c'.repeat(64)}`;

function jobWith(condition?: { type: string; reason?: string; message?: string }): V1Job {
  return {
    spec: { activeDeadlineSeconds: 600, template: {} },
    status: {
      startTime: new Date('2026-12-02T10:00:00Z'),
      ...(condition?.type === 'Complete' ? { completionTime: new Date('2026-12-02T10:00:04Z') } : {}),
      conditions: condition === undefined ? [] : [{ status: 'True', ...condition }],
    },
  };
}

const terminated = (
  name: string,
  exitCode: number,
  message?: string,
  reason?: string,
): V1ContainerStatus => ({
  name,
  image: 'i',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { terminated: { exitCode, ...(message ? { message } : {}), ...(reason ? { reason } : {}) } },
});
const waiting = (name: string, reason: string, message?: string): V1ContainerStatus => ({
  name,
  image: 'i',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason, ...(message ? { message } : {}) } },
});

function pod(
  init: V1ContainerStatus[],
  main: V1ContainerStatus[] = [],
  created = '2026-12-02T10:00:00Z',
): V1Pod {
  return {
    metadata: { creationTimestamp: new Date(created) },
    status: { initContainerStatuses: init, containerStatuses: main },
  };
}

describe('buildOutcome', () => {
  it('is active while the Job has no terminal condition', () => {
    expect(buildOutcome(jobWith(), [pod([terminated('fetch', 0)])])).toEqual({ state: 'active' });
  });

  it('gives the pinned image and the seconds of a completed build', () => {
    const done = pod([terminated('fetch', 0)], [terminated('assemble', 0, `${IMAGE}\n`)]);
    expect(buildOutcome(jobWith({ type: 'Complete' }), [done])).toEqual({
      state: 'succeeded',
      image: IMAGE,
      seconds: 4,
      pruned: undefined,
    });
  });

  it('reads what the build removed of the older images, and what it could not, from the second line', () => {
    const report = (line: string): unknown =>
      buildOutcome(jobWith({ type: 'Complete' }), [
        pod([], [terminated('assemble', 0, `${IMAGE}\n${line}`)]),
      ]);
    expect(report('removed 2 older images')).toMatchObject({ image: IMAGE, pruned: { removed: 2 } });
    expect(report('removed 0 older images; could not remove build-ab: 401 Unauthorized')).toMatchObject({
      pruned: { removed: 0, failed: 'build-ab: 401 Unauthorized' },
    });
    expect(report('something else')).toMatchObject({ image: IMAGE, pruned: undefined });
  });

  it('calls a completed build that named no pinned image failed, quoting what it wrote', () => {
    const done = pod([], [terminated('assemble', 0, 'r/demo/hello:latest')]);
    expect(buildOutcome(jobWith({ type: 'Complete' }), [done])).toEqual({
      state: 'failed',
      step: 'assemble',
      message:
        'the build finished without naming the image it pushed (its termination message is "r/demo/hello:latest")',
    });
  });

  it('names the first step that failed and what it said', () => {
    const failed = pod([
      terminated('fetch', 0),
      terminated('deps-key', 0),
      terminated('cache', 0),
      terminated('layers', 1, 'cloudbase layers: npm ci failed (exit code 1, E404)', 'Error'),
    ]);
    expect(buildOutcome(jobWith({ type: 'Failed', reason: 'BackoffLimitExceeded' }), [failed])).toEqual({
      state: 'failed',
      step: 'layers',
      message: 'cloudbase layers: npm ci failed (exit code 1, E404) (exit code 1, Error)',
    });
  });

  it('names the step the spec runs first, whatever order the kubelet lists them in (by name)', () => {
    const sideBySide: V1Pod = {
      spec: { containers: [{ name: 'code' }, { name: 'assemble' }] },
      status: {
        containerStatuses: [
          terminated('assemble', 1, 'cloudbase assemble: nothing to assemble, the code step failed'),
          terminated('code', 1, 'cloudbase fetch: the ConfigMap is empty'),
        ],
      },
    };
    expect(buildOutcome(jobWith({ type: 'Failed' }), [sideBySide])).toMatchObject({
      step: 'code',
      message: 'cloudbase fetch: the ConfigMap is empty (exit code 1)',
    });
  });

  it('reads the newest pod of the Job', () => {
    const old = pod([terminated('fetch', 1, 'old failure')], [], '2026-12-02T09:00:00Z');
    const latest = pod([terminated('fetch', 1, 'new failure')], [], '2026-12-02T10:00:00Z');
    const outcome = buildOutcome(jobWith({ type: 'Failed' }), [old, latest]);
    expect(outcome).toMatchObject({ step: 'fetch', message: 'new failure (exit code 1)' });
  });

  it('keeps only the end of a long output', () => {
    const long = `${'x'.repeat(2000)}END`;
    const outcome = buildOutcome(jobWith({ type: 'Failed' }), [pod([terminated('layers', 1, long)])]);
    expect(outcome.state === 'failed' && outcome.message.length).toBeLessThan(900);
    expect(outcome.state === 'failed' && outcome.message).toMatch(/^\.\.\.x+END \(exit code 1\)$/);
  });

  it('says the deadline stopped a build that no step failed', () => {
    expect(buildOutcome(jobWith({ type: 'Failed', reason: 'DeadlineExceeded' }), [])).toEqual({
      state: 'failed',
      step: 'deadline',
      message: 'the build took longer than its 600 s deadline and was stopped',
    });
  });

  it('fails at once on a step whose image cannot be pulled, rather than at the deadline', () => {
    const stuck = pod([waiting('fetch', 'ErrImagePull', 'pull access denied')]);
    expect(buildOutcome(jobWith(), [stuck])).toEqual({
      state: 'failed',
      step: 'fetch',
      message: 'ErrImagePull: pull access denied',
    });
  });

  it('keeps waiting on a step that is only starting', () => {
    expect(buildOutcome(jobWith(), [pod([waiting('fetch', 'PodInitializing')])])).toEqual({
      state: 'active',
    });
  });

  const unschedulablePod = (message: string): V1Pod => ({
    metadata: { creationTimestamp: new Date('2026-12-02T10:00:00Z') },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
    },
  });
  const NO_ROOM = '0/1 nodes are available: 1 Insufficient cpu.';

  it('says why a build pod that no node has room for waits, and still waits', () => {
    expect(buildOutcome(jobWith(), [unschedulablePod(NO_ROOM)])).toEqual({
      state: 'active',
      waiting: `no node can run the build pod yet: ${NO_ROOM}`,
    });
  });

  it('does not call a pod the scheduler has not looked at yet unschedulable', () => {
    const fresh: V1Pod = {
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] },
    };
    expect(buildOutcome(jobWith(), [fresh])).toEqual({ state: 'active' });
  });

  it('names the wait in the deadline of a build that never got a node', () => {
    expect(
      buildOutcome(jobWith({ type: 'Failed', reason: 'DeadlineExceeded' }), [unschedulablePod(NO_ROOM)]),
    ).toEqual({
      state: 'failed',
      step: 'deadline',
      message: `the build took longer than its 600 s deadline and was stopped (no node can run the build pod yet: ${NO_ROOM})`,
    });
  });

  it("waits for the pod's last update when the Job says Complete first (the caches are separate watches)", () => {
    const running = pod([terminated('fetch', 0)], [{ ...waiting('assemble', 'x'), state: { running: {} } }]);
    expect(buildOutcome(jobWith({ type: 'Complete' }), [running])).toEqual({ state: 'active' });
  });

  it("waits for the pod's last update when the Job says Failed first, rather than reporting no reason", () => {
    const running: V1Pod = { ...pod([terminated('fetch', 0)]), status: { phase: 'Running' } };
    expect(buildOutcome(jobWith({ type: 'Failed', reason: 'BackoffLimitExceeded' }), [running])).toEqual({
      state: 'active',
    });
  });

  it('reports a completed Job whose pod is gone', () => {
    expect(buildOutcome(jobWith({ type: 'Complete' }), [])).toMatchObject({
      state: 'failed',
      step: 'assemble',
    });
  });
});
