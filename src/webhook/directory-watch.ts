import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';

/**
 * Calls `check` when something in `dir` changes, and every `pollIntervalMs` anyway: Kubernetes updates a
 * Secret or ConfigMap volume by swapping its `..data` symlink (a rename in the directory), and file events
 * are not delivered on every filesystem. Events are debounced 100 ms, since one update writes several files.
 * Returns the function that stops watching.
 */
export function watchDirectory(
  dir: string,
  check: () => void,
  pollIntervalMs: number,
  logger: Logger,
  what: string,
): () => void {
  let debounce: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(check, 100);
    debounce.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, schedule);
    watcher.on('error', (error) => logger.warn({ err: error, dir }, `${what} watch failed; polling only`));
  } catch (error) {
    logger.warn({ err: error, dir }, `cannot watch the ${what}; polling only`);
  }
  const poller = setInterval(check, pollIntervalMs);
  poller.unref();
  return () => {
    watcher?.close();
    clearInterval(poller);
    clearTimeout(debounce);
  };
}
