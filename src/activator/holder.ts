/**
 * Holds a request of a function without a ready pod: wakes the function (at most once a second while
 * anything waits), counts it as held, and waits for a ready pod within the bound, or answers 503 with
 * Retry-After when the queue is full or the wait ran out.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ActivatorTarget } from '../contract/activator.js';
import type { FunctionPod } from '../scaling/pods.js';
import type { PodDirectory } from './pods.js';
import type { ActivatorTally } from './tally.js';

const WAKE_INTERVAL_MS = 1000;

/** What holding needs, as the activator server is given it. */
export interface HoldSettings {
  pods: PodDirectory;
  tally: ActivatorTally;
  /** Raises the function's Deployment from zero; called at most once a second per function while held. */
  wake: (target: ActivatorTarget) => Promise<void>;
  logger: Logger;
  /** Most requests held per function. */
  maxHeld: number;
  /** Longest a request is held waiting for a ready pod. */
  holdTimeoutMs: number;
}

export interface HolderOptions extends HoldSettings {
  now: () => number;
  refuse: (res: ServerResponse, status: number, message: string, retryAfter?: number) => void;
}

export class Holder {
  private readonly lastWake = new Map<string, number>();

  constructor(private readonly opts: HolderOptions) {}

  /** A ready pod for the request; undefined once it has been answered (503) or its client left. */
  async hold(key: string, target: ActivatorTarget, res: ServerResponse): Promise<FunctionPod | undefined> {
    const { opts } = this;
    if (opts.tally.held(key) >= opts.maxHeld) {
      opts.refuse(
        res,
        503,
        `function ${key} is starting and already has ${opts.maxHeld} requests waiting; retry shortly`,
        1,
      );
      return undefined;
    }
    this.opts.logger.debug({ namespace: target.namespace, function: target.function }, 'holding a request');
    this.wake(key, target);
    const left = new AbortController();
    const onClose = (): void => left.abort();
    res.once('close', onClose);
    opts.tally.hold(key, opts.now());
    const started = opts.now();
    // Wake again while waiting: a first scale that raced an autoscaler's write to zero is retried.
    const rewake = setInterval(() => this.wake(key, target), WAKE_INTERVAL_MS);
    try {
      const pod = await opts.pods.wait(key, opts.holdTimeoutMs, left.signal);
      if (pod === undefined && !left.signal.aborted) {
        opts.logger.warn(
          {
            namespace: target.namespace,
            function: target.function,
            heldMs: Math.round(opts.now() - started),
          },
          'no ready pod in time',
        );
        opts.refuse(
          res,
          503,
          `function ${key} had no ready pod within ${opts.holdTimeoutMs / 1000} s; retry shortly`,
          5,
        );
      }
      return pod;
    } finally {
      clearInterval(rewake);
      res.off('close', onClose);
      opts.tally.release(key, opts.now());
    }
  }

  private wake(key: string, target: ActivatorTarget): void {
    const at = this.opts.now();
    if (at - (this.lastWake.get(key) ?? -Infinity) < WAKE_INTERVAL_MS) return;
    this.lastWake.set(key, at);
    this.opts
      .wake(target)
      .catch((err: unknown) =>
        this.opts.logger.warn(
          { namespace: target.namespace, name: target.deployment, err },
          'could not scale the function from zero',
        ),
      );
  }
}
