import { describe, expect, it } from '@jest/globals';
import { decideBuild, type BuildState, type ObservedJob } from './decide.js';

const KEY = 'a'.repeat(64);
const OLD = 'b'.repeat(64);
const IMAGE = `r/demo/hello@sha256:${'c'.repeat(64)}`;

const job = (key: string, outcome: ObservedJob['outcome'], name = `hello-build-${key.slice(0, 12)}`) => ({
  name,
  key,
  outcome,
});
const active = { state: 'active' } as const;
const succeeded = { state: 'succeeded', image: IMAGE, seconds: 4, pruned: { removed: 1 } } as const;
const failed = { state: 'failed', step: 'layers', message: 'npm ci failed (exit code 1, E404)' } as const;

const state = (over: Partial<BuildState>): BuildState => ({
  key: KEY,
  built: undefined,
  status: undefined,
  jobs: [],
  ...over,
});

describe('decideBuild', () => {
  it('starts a build for an input never built', () => {
    expect(decideBuild(state({}))).toEqual({ action: 'start', remove: [] });
  });

  it('builds nothing when the image it runs was built from this input, and removes finished Jobs', () => {
    expect(
      decideBuild(
        state({
          built: { image: IMAGE, key: KEY },
          jobs: [job(KEY, succeeded), job(OLD, failed)],
        }),
      ),
    ).toEqual({ action: 'none', remove: ['hello-build-bbbbbbbbbbbb', 'hello-build-aaaaaaaaaaaa'] });
  });

  it('waits while the build of this input runs', () => {
    expect(decideBuild(state({ jobs: [job(KEY, active)] }))).toEqual({ action: 'wait', remove: [] });
  });

  it('waits, saying why, while the build pod of this input cannot be scheduled', () => {
    const pending = { state: 'active', waiting: 'no node can run the build pod yet: no room' } as const;
    expect(decideBuild(state({ jobs: [job(KEY, pending)] }))).toEqual({
      action: 'wait',
      remove: [],
      waiting: 'no node can run the build pod yet: no room',
    });
  });

  it('records the pushed image once the build succeeded, and removes its Job', () => {
    expect(decideBuild(state({ built: { image: IMAGE, key: OLD }, jobs: [job(KEY, succeeded)] }))).toEqual({
      action: 'record',
      image: IMAGE,
      seconds: 4,
      dependencies: undefined,
      pruned: { removed: 1 },
      remove: ['hello-build-aaaaaaaaaaaa'],
    });
  });

  it('reports a failed build once, keeping its Job for kubectl logs', () => {
    const jobs = [job(KEY, failed)];
    expect(decideBuild(state({ status: 'Building', jobs }))).toEqual({
      action: 'report',
      step: 'layers',
      message: 'npm ci failed (exit code 1, E404)',
      remove: [],
    });
    expect(decideBuild(state({ status: 'Failed', jobs }))).toEqual({ action: 'wait', remove: [] });
  });

  it('does not build a failed input again: a new input is needed', () => {
    expect(decideBuild(state({ status: 'Failed', jobs: [job(KEY, failed)] })).action).not.toBe('start');
  });

  it('removes a failed build of an earlier input when the next input starts', () => {
    expect(decideBuild(state({ status: 'Failed', jobs: [job(OLD, failed)] }))).toEqual({
      action: 'start',
      remove: ['hello-build-bbbbbbbbbbbb'],
    });
  });

  it('stops a running build of an earlier input: its image would be stale', () => {
    expect(decideBuild(state({ jobs: [job(OLD, active), job(KEY, active)] }))).toEqual({
      action: 'wait',
      remove: ['hello-build-bbbbbbbbbbbb'],
    });
  });
});
