/**
 * Requests in flight, and their integral over time: the autoscaler's signal (contract/stats.ts). Two
 * additions and a multiplication per request start and end, on the clock the caller already read.
 */
import type { RuntimeStats } from '../../contract/stats.js';

export class ConcurrencyMeter {
  private inFlight = 0;
  /** Request-milliseconds up to `last`. */
  private area = 0;
  private last: number;
  private answered = 0;

  /** `now`: a monotonic clock in milliseconds (performance.now). */
  constructor(now: number) {
    this.last = now;
  }

  private advance(now: number): void {
    if (now > this.last) {
      this.area += this.inFlight * (now - this.last);
      this.last = now;
    }
  }

  started(now: number): void {
    this.advance(now);
    this.inFlight += 1;
  }

  finished(now: number): void {
    this.advance(now);
    this.inFlight -= 1;
    this.answered += 1;
  }

  read(now: number): RuntimeStats {
    this.advance(now);
    return {
      at: this.last / 1000,
      inFlight: this.inFlight,
      concurrencySeconds: this.area / 1000,
      requests: this.answered,
    };
  }
}
