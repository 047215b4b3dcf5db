/**
 * Which event consumers one function's reconcile writes, a pure decision. A consumer belongs to a function
 * name (`<namespace>_<function>`, what the runtime consumes), not to a Deployment: its name can differ from
 * the Deployment's (`cloudbase.dev/function: billing`), and it can change. So only the Deployment holding
 * the name writes its consumer, and a consumer goes only when no other Deployment declares its name (a
 * deleted or renamed function's successor keeps its backlog).
 */
import type { FunctionSpec } from '../contract/function-spec.js';
import type { ParseResult } from '../contract/parse.js';
import type { Ownership } from '../routing/ownership.js';

/** What a function's reconcile does to one consumer. */
export type ConsumerIntent =
  /** An event function holding its name: its consumer as the spec says. */
  | { kind: 'event'; spec: FunctionSpec & { events: NonNullable<FunctionSpec['events']> } }
  /** No function by this name takes events (deleted, renamed, or HTTP): its consumer goes. */
  | { kind: 'none'; namespace: string; name: string };

export interface ConsumerFacts {
  namespace: string;
  /** The Deployment's annotations parsed; undefined when it is deleted or being deleted. */
  parsed: ParseResult | undefined;
  /** Its name and route decision (routing/ownership.ts); undefined when not in the claim table. */
  ownership: Ownership['kind'] | undefined;
  /** The function name this Deployment had at its last reconcile, or at deletion the best known. */
  previousName: string | undefined;
  /** Whether a Deployment other than this one, not being deleted, declares function `name` in the namespace. */
  declaredByOthers: (name: string) => boolean;
}

/** The consumers to write, in order; none when the annotations do not parse (the webhooks were bypassed). */
export function consumerIntents(facts: ConsumerFacts): ConsumerIntent[] {
  const { namespace, parsed, previousName } = facts;
  const release = (name: string | undefined): ConsumerIntent[] =>
    name === undefined || facts.declaredByOthers(name) ? [] : [{ kind: 'none', namespace, name }];
  if (parsed === undefined) return release(previousName);
  if (!parsed.ok) return [];
  const { spec } = parsed;
  const renamed = previousName !== undefined && previousName !== spec.name ? release(previousName) : [];
  // A name another Deployment holds is that one's to write (its events, or none). An HTTP function whose
  // route is refused still holds its name.
  if (facts.ownership === undefined || facts.ownership === 'name-taken') return renamed;
  const { events } = spec;
  const own: ConsumerIntent =
    events === undefined
      ? { kind: 'none', namespace, name: spec.name }
      : { kind: 'event', spec: { ...spec, events } };
  return [...renamed, own];
}
