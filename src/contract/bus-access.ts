/**
 * Who may do what on the event bus. Every client of NATS (a function's pods, the ingest, the controller)
 * connects with a Kubernetes service account token for {@link BUS_AUDIENCE}; the controller's auth callout
 * asks the API server whose it is and answers with a user whose permissions this module alone decides.
 * A function's pods may read and ack only their own consumer, publish only into their own namespace and
 * their own dead-letter subject, and receive only on their own inbox prefix.
 * https://docs.nats.io/running-a-nats-service/configuration/securing_nats/auth_callout
 * https://docs.nats.io/nats-concepts/jetstream/js_api_ref
 */
import { Label } from './annotations.js';
import {
  consumerName,
  deadLetterSubject,
  EVENTS_STREAM,
  EVENTS_SUBJECTS,
  namespaceEventSubjects,
} from './event-bus.js';

/** The only audience a bus token is valid for: the API server itself refuses it, and so does the activator. */
export const BUS_AUDIENCE = 'nats.cloudbase.dev';

/** Lifetime asked of the kubelet for a pod's bus token (its minimum); the kubelet renews it at 80 %. */
export const BUS_TOKEN_SECONDS = 600;

/** The NATS account every Cloudbase client works in (streams, consumers, events). */
export const BUS_APP_ACCOUNT = 'APP';

/** The account of the auth callout's own connection, which bypasses the callout. */
export const BUS_AUTH_ACCOUNT = 'AUTH';

/** Subjects a client may publish to and subscribe to: NATS `allow` lists, everything else denied. */
export interface BusPermissions {
  publish: string[];
  subscribe: string[];
}

/** What a client is, once the API server vouched for its token. */
export type BusIdentity =
  { kind: 'function'; namespace: string; name: string } | { kind: 'publisher' } | { kind: 'admin' };

/**
 * The inbox prefix of a function's connection: replies to its requests (consumer info, pulled events,
 * publish acks) come there, and it may subscribe nowhere else, so it cannot read another client's replies.
 */
export function functionInboxPrefix(namespace: string, name: string): string {
  return `_INBOX_${consumerName(namespace, name)}`;
}

/** The inbox prefix of the ingest's connections (the NATS default is `_INBOX`, which functions never get). */
export const PUBLISHER_INBOX_PREFIX = '_INBOX_cloudbase_ingest';

/** The permissions of `identity`. */
export function busPermissions(identity: BusIdentity): BusPermissions {
  switch (identity.kind) {
    case 'admin':
      return { publish: ['>'], subscribe: ['>'] };
    case 'publisher':
      // Publishes events of any namespace (it checked the publisher's rights) and reads the consumers'
      // filters, to refuse an event no function takes.
      return {
        publish: [
          EVENTS_SUBJECTS,
          '$JS.API.INFO',
          `$JS.API.STREAM.INFO.${EVENTS_STREAM}`,
          `$JS.API.CONSUMER.LIST.${EVENTS_STREAM}`,
        ],
        subscribe: [`${PUBLISHER_INBOX_PREFIX}.>`],
      };
    case 'function': {
      const consumer = consumerName(identity.namespace, identity.name);
      return {
        publish: [
          `$JS.API.CONSUMER.INFO.${EVENTS_STREAM}.${consumer}`,
          `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.${consumer}`,
          `$JS.ACK.${EVENTS_STREAM}.${consumer}.>`,
          namespaceEventSubjects(identity.namespace),
          deadLetterSubject(identity.namespace, identity.name),
        ],
        subscribe: [`${functionInboxPrefix(identity.namespace, identity.name)}.>`],
      };
    }
  }
}

/** The user name the bus shows for `identity` (its monitoring, its logs). */
export function busUserName(identity: BusIdentity): string {
  return identity.kind === 'function' ? `function ${identity.namespace}/${identity.name}` : identity.kind;
}

/** A service account, `<namespace>:<name>`, as the controller's `--bus-admins` and `--bus-publishers` name it. */
export type ServiceAccountRef = string;

/** The service accounts that act on the bus as Cloudbase itself rather than as a function. */
export interface BusRoles {
  admins: readonly ServiceAccountRef[];
  publishers: readonly ServiceAccountRef[];
}

/** What the API server said of a token (a TokenReview): its service account and, if bound, its pod. */
export interface BusToken {
  namespace: string;
  serviceAccount: string;
  podName?: string;
  podUid?: string;
}

/** The pod a token is bound to, as the controller sees it now. */
export interface BusTokenPod {
  uid: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * Who a reviewed token is on the bus: one of Cloudbase's own service accounts, else the function whose pod
 * it is bound to (the pod must still exist with the token's UID and carry the function label the webhook
 * gave it). Anything else is refused with the reason. The namespace is the trust boundary, as everywhere in
 * Kubernetes: whoever may create pods in a namespace may act as any of its functions.
 * https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens
 */
export function busIdentityOf(
  token: BusToken,
  pod: BusTokenPod | undefined,
  roles: BusRoles,
): BusIdentity | Error {
  const account: ServiceAccountRef = `${token.namespace}:${token.serviceAccount}`;
  if (roles.admins.includes(account)) return { kind: 'admin' };
  if (roles.publishers.includes(account)) return { kind: 'publisher' };
  if (token.podName === undefined || token.podUid === undefined)
    return new Error(
      `the token of service account ${account} is not bound to a pod, and that account is neither a bus admin nor a publisher: function pods connect with their projected token for ${BUS_AUDIENCE}`,
    );
  const podRef = `${token.namespace}/${token.podName}`;
  if (pod === undefined) return new Error(`pod ${podRef}, which the token is bound to, does not exist`);
  if (pod.uid !== token.podUid)
    return new Error(`the token is bound to an earlier pod named ${podRef} (UID ${token.podUid})`);
  const name = pod.labels[Label.function];
  if (name === undefined || name === '')
    return new Error(`pod ${podRef} is not a Cloudbase function's pod (it has no ${Label.function} label)`);
  return { kind: 'function', namespace: token.namespace, name };
}

/** Parses `<namespace>:<name>`, or says what is wrong with it. */
export function parseServiceAccountRef(value: string): ServiceAccountRef | Error {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value.trim());
  if (match === null)
    return new Error(`${JSON.stringify(value)} is not a service account: expected <namespace>:<name>`);
  return `${match[1]}:${match[3]}`;
}

/** The longest session the bus grants, whatever the token says: the callout checks the client again then. */
export const MAX_BUS_SESSION_SECONDS = 3600;

/**
 * When a session granted for `token` ends (seconds since the epoch): the token's `exp`, at most
 * {@link MAX_BUS_SESSION_SECONDS} from `nowSeconds`. The API server has verified the token; this only reads
 * its payload. A token without `exp` (a legacy Secret token) gets the longest session.
 */
export function busSessionEnd(token: string, nowSeconds: number): number {
  const longest = nowSeconds + MAX_BUS_SESSION_SECONDS;
  const payload = token.split('.')[1];
  if (payload === undefined) return longest;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? Math.min(Math.floor(exp), longest) : longest;
  } catch {
    return longest;
  }
}
