/**
 * Per function: requests held now, their integral over time and requests received, as `/stats` reports
 * them to the autoscaler (contract/stats.ts ActivatorStats). A request streamed to a pod that Kubernetes does
 * not call Ready yet (one the activator found ready itself) counts as held until its answer: the autoscaler
 * reads only Ready pods, so it would otherwise see that load nowhere. Functions idle for {@link FORGET_AFTER_MS}
 * are dropped, so the map stays the size of the functions recently at zero.
 */
import type { ActivatorStats } from '../contract/stats.js';

export const FORGET_AFTER_MS = 10 * 60_000;

interface Counts {
  held: number;
  /** Streamed to a pod the autoscaler cannot read yet. */
  unseen: number;
  heldMs: number;
  requests: number;
  last: number;
}

export class ActivatorTally {
  private readonly counts = new Map<string, Counts>();

  private at(key: string, now: number): Counts {
    let counts = this.counts.get(key);
    if (counts === undefined)
      this.counts.set(key, (counts = { held: 0, unseen: 0, heldMs: 0, requests: 0, last: now }));
    counts.heldMs += (counts.held + counts.unseen) * Math.max(0, now - counts.last);
    counts.last = now;
    return counts;
  }

  received(key: string, now: number): void {
    this.at(key, now).requests += 1;
  }

  /** Requests waiting for a pod (the queue's bound counts these only). */
  held(key: string): number {
    return this.counts.get(key)?.held ?? 0;
  }

  /** A request streams to a pod not yet Ready by Kubernetes' word, until {@link unseenEnded}. */
  unseenStarted(key: string, now: number): void {
    this.at(key, now).unseen += 1;
  }

  unseenEnded(key: string, now: number): void {
    this.at(key, now).unseen -= 1;
  }

  hold(key: string, now: number): void {
    this.at(key, now).held += 1;
  }

  release(key: string, now: number): void {
    this.at(key, now).held -= 1;
  }

  /** Every function's counts at `now` (a monotonic clock in ms). */
  read(now: number): ActivatorStats {
    const functions: ActivatorStats['functions'] = {};
    for (const [key, counts] of this.counts) {
      if (counts.held + counts.unseen === 0 && now - counts.last > FORGET_AFTER_MS) {
        this.counts.delete(key);
        continue;
      }
      this.at(key, now);
      functions[key] = {
        held: counts.held + counts.unseen,
        heldSeconds: counts.heldMs / 1000,
        requests: counts.requests,
      };
    }
    return { at: now / 1000, functions };
  }
}
