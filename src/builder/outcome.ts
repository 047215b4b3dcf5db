/**
 * What became of a build Job, read from the Job and its pod: still building, the pinned image it pushed
 * (its `assemble` container's termination message), or the step that failed with its last lines. Pure.
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#terminal-job-conditions
 */
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import { PRUNE_REPORT } from './scripts.js';

export type BuildOutcome =
  /** Building, or waiting to: `waiting` says why it cannot start yet (a pod no node has room for). */
  | { state: 'active'; waiting?: string }
  | { state: 'succeeded'; image: string; seconds: number | undefined; pruned: PruneReport | undefined }
  | { state: 'failed'; step: string; message: string };

/** What the build removed of the function's older images, and what it could not (scripts.ts pruneScript). */
export interface PruneReport {
  removed: number;
  failed?: string;
}

/** A pushed image as crane prints it: `<repository>@sha256:<64 hex>`. */
const PINNED = /^[^@\s]+@sha256:[0-9a-f]{64}$/;

/** Waiting reasons that no wait will end: the build is as good as failed, the deadline need not pass. */
const STUCK = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** The most of a step's output a Warning event carries (events hold 1 KiB messages well). */
const MESSAGE_LIMIT = 800;

export function buildOutcome(job: V1Job, pods: readonly V1Pod[]): BuildOutcome {
  const conditions = job.status?.conditions ?? [];
  const has = (type: string): boolean => conditions.some((c) => c.type === type && c.status === 'True');
  const pod = newest(pods);
  if (has('Complete')) {
    const assembled = statusOf(pod, 'assemble')?.state?.terminated;
    // The pod's last update can reach the cache after the Job's: its own event brings the function back.
    if (pod !== undefined && assembled === undefined) return { state: 'active' };
    const message = assembled?.message?.trim() ?? '';
    const [image = '', report = ''] = message.split('\n').map((line) => line.trim());
    if (!PINNED.test(image))
      return {
        state: 'failed',
        step: 'assemble',
        message: `the build finished without naming the image it pushed (its termination message is ${JSON.stringify(message.slice(0, 200))})`,
      };
    return { state: 'succeeded', image, seconds: seconds(job), pruned: pruneReport(report) };
  }
  const failure = failedStep(pod);
  if (has('Failed')) {
    const condition = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failure !== undefined) return failure;
    if (condition?.reason === 'DeadlineExceeded') {
      const waited = unschedulable(pod);
      return {
        state: 'failed',
        step: 'deadline',
        message: `the build took longer than its ${job.spec?.activeDeadlineSeconds ?? '?'} s deadline and was stopped${waited === undefined ? '' : ` (${waited})`}`,
      };
    }
    // As above: the step that failed is in the pod's update, which is on its way.
    if (pod !== undefined && !['Failed', 'Succeeded'].includes(pod.status?.phase ?? ''))
      return { state: 'active' };
    return {
      state: 'failed',
      step: 'job',
      message: `the build Job failed: ${condition?.reason ?? 'no reason'}${condition?.message ? `: ${condition.message}` : ''}`,
    };
  }
  // Running, but one step cannot start: an image that cannot be pulled, a missing ConfigMap.
  const stuck = stuckStep(pod);
  if (stuck !== undefined) return stuck;
  const waiting = unschedulable(pod);
  return waiting === undefined ? { state: 'active' } : { state: 'active', waiting };
}

/**
 * Why the scheduler has not placed the pod, if it tried and could not: no node has room for its requests,
 * or none matches. It may yet run (room frees up, a node joins), so the build waits, up to its deadline.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-conditions
 */
function unschedulable(pod: V1Pod | undefined): string | undefined {
  const scheduled = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  return `no node can run the build pod yet: ${lastLines(scheduled.message ?? 'the scheduler gave no reason')}`;
}

function pruneReport(line: string): PruneReport | undefined {
  const match = PRUNE_REPORT.exec(line);
  if (match === null) return undefined;
  return { removed: Number(match[1]), ...(match[2] === undefined ? {} : { failed: match[2] }) };
}

function newest(pods: readonly V1Pod[]): V1Pod | undefined {
  return [...pods].sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
  )[0];
}

/** The pod's container statuses in the order its spec runs them (the kubelet sorts them by name). */
function statuses(pod: V1Pod | undefined): V1ContainerStatus[] {
  const order = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].map((c) => c.name);
  const rank = (name: string): number => (order.includes(name) ? order.indexOf(name) : order.length);
  return [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])].sort(
    (a, b) => rank(a.name) - rank(b.name),
  );
}

function statusOf(pod: V1Pod | undefined, name: string): V1ContainerStatus | undefined {
  return statuses(pod).find((s) => s.name === name);
}

/** The first step, in order, that ended with a non-zero exit, and what it said last. */
function failedStep(pod: V1Pod | undefined): BuildOutcome | undefined {
  for (const status of statuses(pod)) {
    const terminated = status.state?.terminated;
    if (terminated !== undefined && terminated.exitCode !== 0) {
      const said = lastLines(terminated.message ?? '');
      const how = `exit code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''}`;
      return { state: 'failed', step: status.name, message: said === '' ? how : `${said} (${how})` };
    }
  }
  return undefined;
}

function stuckStep(pod: V1Pod | undefined): BuildOutcome | undefined {
  for (const status of statuses(pod)) {
    const waiting = status.state?.waiting;
    if (waiting?.reason !== undefined && STUCK.has(waiting.reason))
      return {
        state: 'failed',
        step: status.name,
        message: `${waiting.reason}${waiting.message ? `: ${lastLines(waiting.message)}` : ''}`,
      };
  }
  return undefined;
}

/** The end of a step's output, within the event's room, on one line per line. */
function lastLines(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MESSAGE_LIMIT ? trimmed : `...${trimmed.slice(-MESSAGE_LIMIT)}`;
}

function seconds(job: V1Job): number | undefined {
  const start = job.status?.startTime;
  const end = job.status?.completionTime;
  if (start == null || end == null) return undefined;
  return Math.round((new Date(end).getTime() - new Date(start).getTime()) / 100) / 10;
}
