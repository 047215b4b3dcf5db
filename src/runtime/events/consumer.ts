/**
 * The runtime of an event function is its consumer: it pulls events from its function's durable consumer,
 * no more than it has free slots (`cloudbase.dev/event-concurrency`), calls the handler with each, and acks,
 * naks with the backoff delay, or dead-letters as delivery.ts decides. No dispatcher between the bus and the
 * handler, so an event in flight is in exactly one place: a pod that dies holds at most its free slots'
 * worth, which JetStream redelivers after the ack wait.
 * https://docs.nats.io/using-nats/developer/develop_jetstream/consumers#pull
 */
import {
  jetstream,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { DeadLetterHeader, EVENTS_STREAM, isEventType, isReplaySubject } from '../../contract/event-bus.js';
import { MSG_ID_HEADER, readEventHeaders } from '../../contract/event-message.js';
import { decodeHttpEvents, isHttpEvent, type BusEvent } from '../../bus/http-events.js';
import { publish } from '../../bus/publish.js';
import { invokeWithTimeout, RequestAbort } from '../http/invoke.js';
import type { FunctionHandler, OutgoingResponse } from '../model.js';
import { decideDelivery, exhausted, type DeliveryDecision, type DeliveryPolicy } from './delivery.js';
import type { EventMetrics } from './metrics.js';
import { eventRequest, type DeliveredEvent } from './request.js';

export interface EventConsumerConfig extends DeliveryPolicy {
  namespace: string;
  /** The function's durable consumer on the events stream (contract/event-bus.ts consumerName). */
  consumer: string;
  deadLetterSubject: string;
  concurrency: number;
  timeoutMs: number;
}

export interface EventConsumerDeps {
  connection: NatsConnection;
  handler: FunctionHandler;
  logger: Logger;
  metrics: EventMetrics;
  /** Wait between tries when the consumer is missing or a pull failed; tests shorten it. */
  retryMs?: number;
}

export interface RunningConsumer {
  /** Resolves once the consumer exists and the first pull went out: the pod is ready. */
  ready: Promise<void>;
  /** Events being handled now. */
  inFlight(): number;
  /**
   * Stops pulling, naks with no delay what arrives meanwhile (another pod takes it), and waits up to
   * `graceMs` for the events being handled. True if every one finished.
   */
  stop(graceMs: number): Promise<boolean>;
}

/**
 * How long one pull waits for events; the server ends it early once it delivered them all. A pull cannot be
 * withdrawn, so a stopping pod waits this long at most, naking what still arrives; an idle pod asks again
 * at this pace.
 */
const PULL_EXPIRES_MS = 2_000;

export function startEventConsumer(config: EventConsumerConfig, deps: EventConsumerDeps): RunningConsumer {
  const js = jetstream(deps.connection);
  const log = deps.logger.child({ consumer: config.consumer });
  const retryMs = deps.retryMs ?? 1_000;
  const refillAt = Math.max(1, Math.floor(config.concurrency / 2));
  let inFlight = 0;
  let stopping = false;
  let wake: (() => void) | undefined;
  const idle = new Set<() => void>();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const finished = (): void => {
    inFlight -= 1;
    wake?.();
    if (inFlight === 0) for (const resolve of idle) resolve();
  };
  const freeSlot = (): Promise<void> => new Promise((resolve) => (wake = resolve));

  const handleOne = (msg: JsMsg): void => {
    inFlight += 1;
    void handle(msg, config, js, deps, log).finally(finished);
  };

  const pullLoop = async (): Promise<void> => {
    let consumer: Consumer | undefined;
    while (!stopping) {
      try {
        consumer ??= await js.consumers.get(EVENTS_STREAM, config.consumer);
        // A pull per freed slot would cost a round trip per event once the pod is busy: ask again only
        // once half the slots are free (or none is busy), so each pull brings a batch.
        const free = config.concurrency - inFlight;
        if (free < refillAt && inFlight > 0) {
          await freeSlot();
          continue;
        }
        const batch: ConsumerMessages = await consumer.fetch({
          max_messages: free,
          expires: PULL_EXPIRES_MS,
        });
        markReady();
        for await (const msg of batch) {
          // A pull cannot be withdrawn: what it still brings after the stop goes back at once.
          if (stopping) msg.nak();
          else handleOne(msg);
        }
      } catch (error) {
        if (stopping) break;
        consumer = undefined;
        log.warn(
          { err: error },
          `cannot pull from consumer ${config.consumer}; trying again in ${retryMs} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  };
  const loop = pullLoop();

  const stop = async (graceMs: number): Promise<boolean> => {
    stopping = true;
    wake?.();
    await loop;
    if (inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<true>((resolve) => idle.add(() => resolve(true))),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    return done;
  };
  return { ready, inFlight: () => inFlight, stop };
}

/** One delivery: decode, run the handler (unless its attempts are spent), then carry out the decision. */
async function handle(
  msg: JsMsg,
  config: EventConsumerConfig,
  js: JetStreamClient,
  deps: EventConsumerDeps,
  log: Logger,
): Promise<void> {
  const attempt = msg.info.deliveryCount;
  const metrics = deps.metrics;
  metrics.delivered.inc();
  const attributes = readEventHeaders(headerEntries(msg.headers));
  let decision: HandledDecision;
  if (attributes instanceof Error) {
    decision = { kind: 'dead-letter', reason: attributes.message };
  } else {
    if (attempt === 1 && attributes.time !== undefined) metrics.observeLatency(attributes.time);
    decision =
      exhausted(attempt, config) ??
      (await invoke({ attributes, data: msg.data, attempt }, config, deps, log));
  }
  const eventLog =
    attributes instanceof Error ? log : log.child({ eventId: attributes.id, type: attributes.type });
  try {
    if (decision.kind === 'reply') {
      for (const reply of decision.events) await publish(js, config.namespace, reply);
      decision = { kind: 'ack' };
    }
    switch (decision.kind) {
      case 'ack':
        msg.ack();
        metrics.acked.inc();
        return;
      case 'retry':
        msg.nak(decision.delayMs);
        metrics.retried.inc();
        eventLog.warn(
          { attempt, delayMs: decision.delayMs },
          `event failed, retried later: ${decision.reason}`,
        );
        return;
      case 'dead-letter':
        await js.publish(config.deadLetterSubject, msg.data, {
          headers: deadLetterHeaders(msg, config, decision.reason, attempt),
        });
        msg.ack();
        metrics.deadLettered.inc();
        eventLog.warn({ attempt }, `event dead-lettered: ${decision.reason}`);
        return;
    }
  } catch (error) {
    // The bus refused a publish (reply or dead letter): the event stays, offered again after the delay.
    msg.nak(config.backoffMs[0] ?? 1_000);
    metrics.retried.inc();
    eventLog.error({ err: error, attempt }, 'could not publish for this event; it is offered again');
  }
}

type HandledDecision = DeliveryDecision | { kind: 'reply'; events: BusEvent[] };

/** Runs the handler under its timeout; a successful answer that is a CloudEvent is a reply to publish. */
async function invoke(
  event: DeliveredEvent,
  config: EventConsumerConfig,
  deps: EventConsumerDeps,
  log: Logger,
): Promise<HandledDecision> {
  const abort = new RequestAbort();
  const started = performance.now();
  const outcome = await invokeWithTimeout(
    deps.handler,
    eventRequest(event, abort.signal, log.child({ eventId: event.attributes.id })),
    config.timeoutMs,
    abort,
  );
  deps.metrics.handlerSeconds.observe((performance.now() - started) / 1000);
  if (outcome.kind === 'exception')
    log.error({ err: outcome.error, eventId: event.attributes.id }, 'the function threw');
  const decision = decideDelivery(outcome, event.attempt, config);
  if (decision.kind !== 'ack' || outcome.kind !== 'answered') return decision;
  return replyOf(outcome.response) ?? decision;
}

/** A handler's answer that is a CloudEvent, as events to publish; a malformed one is dead-lettered. */
function replyOf(response: OutgoingResponse): HandledDecision | undefined {
  const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (!isHttpEvent(headers)) return undefined;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  const decoded = decodeHttpEvents(headers, body);
  if (!decoded.ok)
    return {
      kind: 'dead-letter',
      reason: `the function answered a reply event that is not valid: ${decoded.problem}`,
    };
  const unroutable = decoded.events.find((event) => !isEventType(event.attributes.type));
  if (unroutable !== undefined)
    return {
      kind: 'dead-letter',
      reason: `the function answered a reply event of type ${JSON.stringify(unroutable.attributes.type)}, which is not a routable event type`,
    };
  return { kind: 'reply', events: decoded.events };
}

/**
 * The event's own headers and why it was given up, with a message id of its own per function: the same event
 * dead-lettered by two functions is two entries, and one dead-lettered twice (its pod died before the ack)
 * is one.
 */
function deadLetterHeaders(
  msg: JsMsg,
  config: EventConsumerConfig,
  reason: string,
  attempt: number,
): MsgHdrs {
  const headers = natsHeaders();
  for (const [name, value] of headerEntries(msg.headers)) {
    if (name.toLowerCase() !== MSG_ID_HEADER.toLowerCase()) headers.set(name, value);
  }
  headers.set(DeadLetterHeader.reason, reason.replace(/[\r\n]+/g, ' '));
  headers.set(DeadLetterHeader.attempts, String(Math.min(attempt, config.maxAttempts)));
  // A replayed event dead-lettered again keeps the subject it was first published on.
  const first = isReplaySubject(msg.subject) ? msg.headers?.get(DeadLetterHeader.subject) : undefined;
  headers.set(DeadLetterHeader.subject, first !== undefined && first !== '' ? first : msg.subject);
  headers.set(MSG_ID_HEADER, `${msg.info.stream}-${msg.seq}-${config.consumer}`);
  return headers;
}

function* headerEntries(headers: MsgHdrs | undefined): Iterable<[string, string]> {
  if (headers === undefined) return;
  for (const [name, values] of headers) if (values[0] !== undefined) yield [name, values[0]];
}
