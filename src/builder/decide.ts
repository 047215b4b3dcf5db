/**
 * The build decision for one image-built function, by level: from its build input, the image it runs and
 * the build Jobs it has, what to do now. Pure; the controller (src/controller/builds.ts) reads and writes.
 * - The image it runs was built from this input: nothing to build; finished Jobs go.
 * - A Job for this input is running: wait (its changes requeue the function); a pod no node can run yet is
 *   said, since the Job alone would look like a build in progress until its deadline.
 * - It succeeded: record the image (the webhook then runs it), say so, remove the Job.
 * - It failed: say why once; keep it for `kubectl logs` until the next input builds.
 * - None yet: start one; a failed Job of an earlier input goes now.
 */
import { BuildStatus, type BuiltImage } from '../contract/build.js';
import type { BuildOutcome, PruneReport } from './outcome.js';

/** A build Job of the function, with what became of it. */
export interface ObservedJob {
  name: string;
  /** The build input it builds (its annotation). */
  key: string;
  /** The key of the dependencies layer it builds on, when the controller knew it. */
  dependencies?: string;
  outcome: BuildOutcome;
}

export interface BuildState {
  /** The input the function's source and settings give now (contract/build.ts buildKey). */
  key: string;
  /** The image the function runs, if any. */
  built: BuiltImage | undefined;
  /** `cloudbase.dev/build-status` as it is. */
  status: string | undefined;
  jobs: readonly ObservedJob[];
}

export type BuildAction =
  | { action: 'none'; remove: string[] }
  /** `waiting`: why the build cannot start yet, said once so the user is not left guessing. */
  | { action: 'wait'; remove: string[]; waiting?: string }
  | { action: 'start'; remove: string[] }
  | {
      action: 'record';
      image: string;
      seconds: number | undefined;
      dependencies: string | undefined;
      pruned: PruneReport | undefined;
      remove: string[];
    }
  | { action: 'report'; step: string; message: string; remove: string[] };

export function decideBuild(state: BuildState): BuildAction {
  const current = state.jobs.find((job) => job.key === state.key);
  const others = state.jobs.filter((job) => job !== current);
  const finished = (job: ObservedJob): boolean => job.outcome.state !== 'active';
  // Another input's Job: a running one is stopped (its result would be stale), a failed one is kept only
  // while it is the latest word on the function, i.e. until a build of another input starts.
  const stale = others.filter((job) => !finished(job)).map((job) => job.name);
  const finishedOthers = others.filter(finished).map((job) => job.name);

  if (state.built?.key === state.key) {
    return { action: 'none', remove: [...stale, ...finishedOthers, ...(current ? [current.name] : [])] };
  }
  if (current === undefined) return { action: 'start', remove: [...stale, ...finishedOthers] };
  const outcome = current.outcome;
  switch (outcome.state) {
    case 'active':
      return outcome.waiting === undefined
        ? { action: 'wait', remove: stale }
        : { action: 'wait', remove: stale, waiting: outcome.waiting };
    case 'succeeded':
      return {
        action: 'record',
        image: outcome.image,
        seconds: outcome.seconds,
        dependencies: current.dependencies,
        pruned: outcome.pruned,
        remove: [...stale, ...finishedOthers, current.name],
      };
    case 'failed':
      // Reported once: every start sets Building, so Failed here is this Job's own report.
      return state.status === BuildStatus.failed
        ? { action: 'wait', remove: stale }
        : { action: 'report', step: outcome.step, message: outcome.message, remove: stale };
  }
}
