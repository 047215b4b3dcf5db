/**
 * How a build step (or the runtime) fails: one line on stderr, also written to the container's
 * termination message file so that `kubectl describe pod` shows it.
 * https://kubernetes.io/docs/tasks/debug/debug-application/determine-reason-pod-failure/
 */
import { existsSync, writeFileSync } from 'node:fs';

/** Kubernetes' default `terminationMessagePath`. */
export const TERMINATION_LOG = '/dev/termination-log';

/** A failure whose message is the one line the user needs (what failed, the value, how to fix it). */
export class BuildFailure extends Error {
  override name = 'BuildFailure';
}

/** Writes the line to the termination message file when the container has one; never throws. */
export function writeTerminationMessage(line: string, file: string = TERMINATION_LOG): void {
  try {
    if (existsSync(file)) writeFileSync(file, `${line}\n`);
  } catch {
    // A missing or read-only termination log must not hide the real failure, which is on stderr too.
  }
}

/** The line for a failed step: `cloudbase <step>: <message>`; unexpected errors keep their name. */
export function failureLine(step: string, err: unknown): string {
  const message =
    err instanceof BuildFailure
      ? err.message
      : err instanceof Error
        ? `${err.name}: ${err.message}`
        : String(err);
  return `cloudbase ${step}: ${message.replaceAll('\n', ' ')}`;
}
