/**
 * Which events some function takes: the filters of the event functions' consumers on the events stream, read
 * from JetStream (the controller keeps one consumer per event function). An event no filter takes would sit
 * in an interest stream reaching no one, so the ingest refuses it instead of silently accepting it.
 * The filters are read again once they are `freshMs` old, and at once (at most every `missRefreshMs`) when
 * an event matches none: a function whose consumer was just made takes events without waiting.
 */
import { subjectMatches } from '../contract/event-bus.js';

export interface InterestDeps {
  /** Every consumer's filter subjects. */
  listFilters: () => Promise<string[]>;
  now?: () => number;
  freshMs?: number;
  missRefreshMs?: number;
}

export class EventInterest {
  private filters: string[] = [];
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly freshMs: number;
  private readonly missRefreshMs: number;

  constructor(private readonly deps: InterestDeps) {
    this.now = deps.now ?? Date.now;
    this.freshMs = deps.freshMs ?? 5_000;
    this.missRefreshMs = deps.missRefreshMs ?? 250;
  }

  /** The subjects no consumer takes (empty when every one is taken). Rejects when JetStream cannot be read. */
  async untaken(subjects: readonly string[]): Promise<string[]> {
    if (this.now() - this.readAt >= this.freshMs) await this.read();
    let missing = this.missing(subjects);
    if (missing.length > 0 && this.now() - this.readAt >= this.missRefreshMs) {
      await this.read();
      missing = this.missing(subjects);
    }
    return missing;
  }

  private missing(subjects: readonly string[]): string[] {
    return subjects.filter((subject) => !this.filters.some((filter) => subjectMatches(filter, subject)));
  }

  /** One read at a time, shared by the requests that wait on it. */
  private read(): Promise<void> {
    this.reading ??= this.deps
      .listFilters()
      .then((filters) => {
        this.filters = filters;
        this.readAt = this.now();
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
