/**
 * Who may publish into a namespace: the API server decides (a TokenReview for the ingest's audience, then a
 * SubjectAccessReview for `create events.cloudbase.dev/events` there), and the answers are kept briefly so
 * a publisher's stream of requests costs two API calls per few seconds, not two per request. An allowed
 * publisher stays allowed for `allowedMs` after a RoleBinding is removed; a refused one is asked about
 * again after `refusedMs`, so a RoleBinding just made takes effect soon.
 */
import { createHash } from 'node:crypto';
import { INGEST_AUDIENCE, PUBLISH_ACCESS } from '../contract/event-ingest.js';
import type { TokenUser } from '../kube/client.js';

export type PublishDecision = { ok: true; user: string } | { ok: false; status: 401 | 403; message: string };

export interface PublishAuthorizerDeps {
  /** The TokenReview: the token's user, or why the API server vouches for none. */
  review: (token: string) => Promise<TokenUser | Error>;
  /** The SubjectAccessReview of a publish into `namespace`: undefined when allowed, else why not. */
  access: (user: TokenUser, namespace: string) => Promise<string | undefined>;
  now?: () => number;
  allowedMs?: number;
  refusedMs?: number;
  /** Bound on the answers kept (the oldest go first). */
  maxEntries?: number;
}

interface Entry {
  expires: number;
  decision: Promise<PublishDecision>;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export class PublishAuthorizer {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly allowedMs: number;
  private readonly refusedMs: number;
  private readonly maxEntries: number;

  constructor(private readonly deps: PublishAuthorizerDeps) {
    this.now = deps.now ?? Date.now;
    this.allowedMs = deps.allowedMs ?? 10_000;
    this.refusedMs = deps.refusedMs ?? 2_000;
    this.maxEntries = deps.maxEntries ?? 10_000;
  }

  /**
   * Whether the request's `Authorization` header lets it publish into `namespace`. Rejects (for a 503) only
   * when the API server could not be asked; that answer is not kept.
   */
  authorize(authorization: string | undefined, namespace: string): Promise<PublishDecision> {
    const token = BEARER.exec(authorization ?? '')?.[1];
    if (token === undefined)
      return Promise.resolve({
        ok: false,
        status: 401,
        message: `send a Kubernetes token for the audience ${INGEST_AUDIENCE} as "Authorization: Bearer <token>" (kubectl create token <service-account> --audience ${INGEST_AUDIENCE})`,
      });
    const key = `${createHash('sha256').update(token).digest('hex')} ${namespace}`;
    const now = this.now();
    const kept = this.entries.get(key);
    if (kept !== undefined && kept.expires > now) return kept.decision;
    this.entries.delete(key);
    const decision = this.decide(token, namespace);
    // Until it is known, the pending answer is shared by every request with the same token and namespace.
    const entry: Entry = { expires: Number.POSITIVE_INFINITY, decision };
    this.keep(key, entry);
    decision.then(
      (answer) => {
        entry.expires = this.now() + (answer.ok ? this.allowedMs : this.refusedMs);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return decision;
  }

  private async decide(token: string, namespace: string): Promise<PublishDecision> {
    const user = await this.deps.review(token);
    if (user instanceof Error) return { ok: false, status: 401, message: user.message };
    const refusal = await this.deps.access(user, namespace);
    if (refusal === undefined) return { ok: true, user: user.username };
    return {
      ok: false,
      status: 403,
      message: `${refusal}; publishing needs ${PUBLISH_ACCESS.verb} on ${PUBLISH_ACCESS.resource}.${PUBLISH_ACCESS.group} there, which the ClusterRole cloudbase-events-publisher grants (bind it with a RoleBinding)`,
    };
  }

  private keep(key: string, entry: Entry): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
  }
}
