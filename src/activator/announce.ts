/**
 * `POST /announce` on the activator's admin port (contract/announce.ts): a function pod says it is ready at
 * its IP. The API server vouches for the pod through a TokenReview; the directory then probes it. Every
 * announcement a pod sent itself is passed on to the activator's peers, which verify it on their own: held
 * requests of one function may wait in any replica.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { ANNOUNCE_FORWARDED_HEADER, bearerToken, parseAnnouncement } from '../contract/announce.js';
import type { TokenPod } from '../kube/client.js';
import type { PodDirectory } from './pods.js';

export interface AnnounceDeps {
  pods: PodDirectory;
  /** The pod a token is bound to, by the API server's word, or why it vouches for none. */
  authenticate: (token: string) => Promise<TokenPod | Error>;
  /** Passes a pod's own announcement to the other activators. */
  forward?: (body: string, token: string) => void;
  logger: Logger;
  /** `cloudbase_activator_announcements_total{outcome}`. */
  announcements?: Counter<'outcome'>;
}

export interface AnnounceAnswer {
  status: number;
  message: string;
}

/** What the activator answers to one announcement. */
export async function handleAnnounce(
  deps: AnnounceDeps,
  headers: IncomingHttpHeaders,
  body: string,
): Promise<AnnounceAnswer> {
  const answer = await decide(deps, headers, body);
  deps.announcements?.inc({ outcome: String(answer.status) });
  if (answer.status >= 400)
    deps.logger.warn({ status: answer.status, reason: answer.message }, 'announcement refused');
  return answer;
}

async function decide(
  deps: AnnounceDeps,
  headers: IncomingHttpHeaders,
  body: string,
): Promise<AnnounceAnswer> {
  const token = bearerToken(headers.authorization);
  if (token instanceof Error) return { status: 401, message: token.message };
  const claim = parseAnnouncement(body);
  if (claim instanceof Error) return { status: 400, message: claim.message };
  if (headers[ANNOUNCE_FORWARDED_HEADER] === undefined) deps.forward?.(body, token);
  let pod: TokenPod | Error;
  try {
    pod = await deps.authenticate(token);
  } catch (err) {
    return { status: 503, message: `cannot review the announcement's token: ${String(err)}` };
  }
  if (pod instanceof Error) return { status: 403, message: pod.message };
  if (pod.podUid !== claim.uid)
    return {
      status: 403,
      message: `the token is pod ${pod.namespace}/${pod.podName}'s (${pod.podUid}), not pod ${claim.uid}'s`,
    };
  const outcome = deps.pods.announce({ uid: claim.uid, namespace: pod.namespace, ip: claim.ip });
  if (outcome instanceof Error) return { status: 409, message: outcome.message };
  deps.logger.debug({ namespace: pod.namespace, pod: pod.podName, ip: claim.ip, outcome }, 'pod announced');
  return { status: outcome === 'taken' ? 202 : 200, message: outcome };
}
