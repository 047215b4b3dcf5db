/**
 * The leading controller's part of the event bus: the events and dead-letter streams, and one durable pull
 * consumer per event function, made to match its annotations (filter, ack wait, bounds) and deleted when
 * the function is deleted or becomes an HTTP function. A sweep deletes the consumers of functions that
 * went while no controller ran; it deletes only consumers it made (their metadata names the function), so
 * another reader of the stream is left alone.
 * https://docs.nats.io/nats-concepts/jetstream/consumers#durable-consumers
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import {
  consumerConfig,
  functionConsumerNames,
  deadLetterStreamConfig,
  deleteConsumer,
  ensureConsumer,
  ensureStream,
  eventsStreamConfig,
  consumerBacklogs,
  type ConsumerBacklog,
} from '../bus/streams.js';
import { consumerName, EVENTS_STREAM } from '../contract/event-bus.js';
import type { ConsumerIntent } from './consumer-intent.js';

export interface EventConsumersOptions {
  /** The bus's JetStream manager, or why there is none now (bus/connect.ts linkBus): a write then fails. */
  jsm: () => JetStreamManager | Error;
  /** Servers each stream is replicated on (`--events-replicas`); at most the bus's server count. */
  replicas: number;
  logger: Logger;
  /** Throws unless this replica leads, right before every write. */
  assertLeading: (what: string) => void;
}

export class EventConsumers {
  private streams: Promise<void> | undefined;

  constructor(private readonly options: EventConsumersOptions) {}

  /** Makes one function's consumer what `intent` says (consumer-intent.ts); logs and returns what changed. */
  async reconcile(intent: ConsumerIntent): Promise<'created' | 'updated' | 'deleted' | 'unchanged'> {
    const { logger } = this.options;
    const { namespace, name } = intent.kind === 'event' ? intent.spec : intent;
    const consumer = consumerName(namespace, name);
    const jsm = this.manager();
    await this.ensureStreams(jsm);
    this.options.assertLeading(`the event consumer of ${namespace}/${name}`);
    if (intent.kind === 'none') {
      const deleted = await deleteConsumer(jsm, EVENTS_STREAM, consumer);
      if (deleted) logger.info({ namespace, function: name, consumer }, 'event consumer deleted');
      return deleted ? 'deleted' : 'unchanged';
    }
    const outcome = await ensureConsumer(jsm, EVENTS_STREAM, consumerConfig(intent.spec, intent.spec.events));
    if (outcome !== 'unchanged')
      logger.info(
        { namespace, function: name, consumer, types: intent.spec.events.types },
        `event consumer ${outcome}`,
      );
    return outcome;
  }

  /**
   * Deletes every consumer on the events stream that no function `functions()` names (`namespace/function`,
   * the function name every Deployment the synced cache holds declares) could own; returns the deleted names. The functions are read
   * after the consumers: a consumer is created only once its Deployment is in the cache, so one created
   * during the sweep is never taken for a stale one.
   */
  async sweep(functions: () => Iterable<string>): Promise<string[]> {
    const { logger } = this.options;
    const jsm = this.manager();
    await this.ensureStreams(jsm);
    const existing = await functionConsumerNames(jsm, EVENTS_STREAM);
    const owned = new Set<string>();
    for (const key of functions()) {
      const [namespace = '', name = ''] = key.split('/');
      owned.add(consumerName(namespace, name));
    }
    const deleted: string[] = [];
    for (const consumer of existing) {
      if (owned.has(consumer)) continue;
      this.options.assertLeading(`the sweep of event consumer ${consumer}`);
      if (await deleteConsumer(jsm, EVENTS_STREAM, consumer)) deleted.push(consumer);
    }
    if (deleted.length > 0)
      logger.info({ consumers: deleted }, 'event consumers of deleted functions removed');
    return deleted;
  }

  /**
   * The backlogs of the named consumers, each from its leader (bus/streams.ts); a consumer that could not be
   * read is absent. Throws while the bus cannot be reached.
   */
  backlogs(names: readonly string[]): Promise<Map<string, ConsumerBacklog>> {
    return consumerBacklogs(this.manager(), EVENTS_STREAM, names);
  }

  /** The streams, created or brought to their configuration once per process (again after a failure). */
  private manager(): JetStreamManager {
    const jsm = this.options.jsm();
    if (jsm instanceof Error) throw jsm;
    return jsm;
  }

  private ensureStreams(jsm: JetStreamManager): Promise<void> {
    this.streams ??= (async () => {
      this.options.assertLeading('the event streams');
      for (const desired of [
        eventsStreamConfig(this.options.replicas),
        deadLetterStreamConfig(this.options.replicas),
      ]) {
        const outcome = await ensureStream(jsm, desired);
        if (outcome !== 'unchanged')
          this.options.logger.info({ stream: desired.name }, `event stream ${outcome}`);
      }
    })().catch((error: unknown) => {
      this.streams = undefined;
      throw error;
    });
    return this.streams;
  }
}
