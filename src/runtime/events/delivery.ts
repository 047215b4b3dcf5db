/**
 * What becomes of one delivery of an event, from the handler's outcome: ack, redeliver after the backoff
 * delay, or dead-letter. Pure, so each rule is a table test; the consumer (consumer.ts) carries it out.
 */
import { backoffAfter } from '../../contract/event-bus.js';
import type { FunctionEvents } from '../../contract/function-spec.js';
import type { InvokeOutcome } from '../http/invoke.js';

export type DeliveryDecision =
  | { kind: 'ack' }
  /** Nak with this delay: JetStream delivers the event again then, to whichever pod pulls. */
  | { kind: 'retry'; delayMs: number; reason: string }
  /** Publish to the dead-letter subject, then ack. */
  | { kind: 'dead-letter'; reason: string };

export type DeliveryPolicy = Pick<FunctionEvents, 'maxAttempts' | 'backoffMs'>;

/**
 * Statuses that say "not now" rather than "never": a timeout and too many requests are worth another try,
 * like any 5xx. Every other 4xx says the event itself is wrong, which no retry mends.
 * https://www.rfc-editor.org/rfc/rfc9110#name-client-error-4xx
 */
const RETRYABLE_4XX = new Set([408, 425, 429]);

/** The handler's outcome for delivery `attempt` (1 = first) decides what happens to the event. */
export function decideDelivery(
  outcome: InvokeOutcome,
  attempt: number,
  policy: DeliveryPolicy,
): DeliveryDecision {
  const failure = failureOf(outcome);
  if (failure === undefined) return { kind: 'ack' };
  if (!failure.retryable) return { kind: 'dead-letter', reason: `${failure.reason}, which no retry mends` };
  if (attempt >= policy.maxAttempts) {
    return {
      kind: 'dead-letter',
      reason: `attempt ${attempt} of ${policy.maxAttempts} failed: ${failure.reason}`,
    };
  }
  return { kind: 'retry', delayMs: backoffAfter(policy, attempt), reason: failure.reason };
}

/**
 * An event delivered more often than its attempts allow: the pod that had its last attempt stopped before
 * it answered (JetStream redelivers after the ack wait), or the dead-letter publish of the last attempt
 * failed. It goes to the dead-letter queue without running the handler again.
 */
export function exhausted(attempt: number, policy: DeliveryPolicy): DeliveryDecision | undefined {
  if (attempt <= policy.maxAttempts) return undefined;
  return {
    kind: 'dead-letter',
    reason: `delivered again after its last attempt (${policy.maxAttempts} of ${policy.maxAttempts}), whose pod stopped before it answered or could not dead-letter it`,
  };
}

function failureOf(outcome: InvokeOutcome): { reason: string; retryable: boolean } | undefined {
  switch (outcome.kind) {
    case 'timeout':
      return { reason: 'the function did not answer within its timeout', retryable: true };
    case 'exception': {
      const error = outcome.error;
      const message = error instanceof Error ? error.message : String(error);
      return { reason: `the function threw: ${firstLine(message)}`, retryable: true };
    }
    case 'client-error':
    case 'answered': {
      const status = outcome.response.status;
      if (status < 400) return undefined;
      const body = firstLine(bodyText(outcome.response.body));
      const reason = `the function answered ${status}${body === '' ? '' : `: ${body}`}`;
      return { reason, retryable: status >= 500 || RETRYABLE_4XX.has(status) };
    }
  }
}

function bodyText(body: Buffer | string): string {
  return typeof body === 'string' ? body : body.subarray(0, 400).toString('utf8');
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
