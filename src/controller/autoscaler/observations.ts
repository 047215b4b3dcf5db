/**
 * Turns reads of a function's pods into the autoscaler's samples (scaling/decide.ts): each pod's mean
 * concurrency since its previous read, summed over the ready pods (extrapolated from those read), and the
 * requests answered meanwhile. Keeps the samples of the last stable window.
 */
import type { ConsumerBacklog } from '../../bus/streams.js';
import { meanConcurrency, type RuntimeStats } from '../../contract/stats.js';
import type { ScaleSample } from '../../scaling/decide.js';

/** One pod's read this tick: its stats, or nothing when it could not be read. */
export interface PodRead {
  uid: string;
  stats: RuntimeStats | undefined;
}

export class FunctionObservations {
  private readonly previous = new Map<string, RuntimeStats>();
  /** An event function's deliveries at its previous read. */
  private delivered: number | undefined;
  readonly samples: ScaleSample[] = [];

  /**
   * Adds the sample of one tick. `readyPods`: how many pods are ready, of which `reads` were asked; `held`:
   * requests the activator holds for the function; `activatorRequests`: requests it received since the last tick.
   */
  record(
    now: number,
    readyPods: number,
    reads: readonly PodRead[],
    held: number,
    activatorRequests: number,
    windowMs: number,
  ): ScaleSample {
    let concurrency = 0;
    let requests = 0;
    let measured = 0;
    const seen = new Set<string>();
    for (const { uid, stats } of reads) {
      seen.add(uid);
      if (stats === undefined) continue;
      const before = this.previous.get(uid);
      this.previous.set(uid, stats);
      // A pod read for the first time: its in-flight count now stands for the interval.
      const mean = before === undefined ? stats.inFlight : meanConcurrency(before, stats);
      if (mean === undefined) continue;
      concurrency += mean;
      requests += before === undefined ? 0 : stats.requests - before.requests;
      measured += 1;
    }
    for (const uid of this.previous.keys()) if (!seen.has(uid)) this.previous.delete(uid);
    const scale = measured === 0 ? 0 : readyPods / measured;
    return this.push(
      { at: now, concurrency: concurrency * scale, requests: requests * scale + activatorRequests, held },
      windowMs,
    );
  }

  /**
   * Adds the sample of one tick of an event function: its consumer's backlog (pending and ack-pending) is
   * the demand, as requests in flight are an HTTP function's, and the deliveries since the last read its
   * activity. A consumer made again counts from nothing.
   */
  recordBacklog(now: number, backlog: ConsumerBacklog, windowMs: number): ScaleSample {
    const before = this.delivered;
    this.delivered = backlog.delivered;
    const requests = before === undefined ? 0 : Math.max(0, backlog.delivered - before);
    return this.push(
      { at: now, concurrency: backlog.pending + backlog.ackPending, requests, held: 0 },
      windowMs,
    );
  }

  private push(sample: ScaleSample, windowMs: number): ScaleSample {
    this.samples.push(sample);
    while (this.samples.length > 0 && this.samples[0]!.at <= sample.at - windowMs) this.samples.shift();
    return sample;
  }
}
