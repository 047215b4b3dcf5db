/**
 * A function pod's announcement to the activator: "I am pod UID, at IP, and ready". The kubelet publishes a
 * new pod's IP only at its next status sync, after the container started and the pod lifecycle event
 * generator's next relist (up to a second later); the runtime knows its IP from the downward API as it
 * starts. Requests held while the function was at zero can thus go to the pod as soon as it listens.
 *
 * Trust: the announcement carries a projected service account token with the activator's audience, bound
 * to the pod. The activator asks the API server (TokenReview) whose it is: the pod UID it names must be the
 * announced one, and a pod the activator's own watch knows, in the token's namespace. It then asks the
 * announced address for `/readyz`, whose answer must name the same UID. A tenant can neither announce
 * another namespace's pod nor pass its own address off as one.
 * https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens
 * https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/
 */
import { isIP } from 'node:net';

/** POST on the activator's admin port, with `Authorization: Bearer <token>` and an {@link Announcement}. */
export const ANNOUNCE_PATH = '/announce';

/** The only audience the announcement token is valid for: the API server itself refuses it. */
export const ANNOUNCE_AUDIENCE = 'activator.cloudbase.dev';

/** Lifetime asked of the kubelet for the token (its minimum); the kubelet renews it at 80 %. */
export const ANNOUNCE_TOKEN_SECONDS = 600;

/** The runtime's `/readyz` answers its pod UID in this header. */
export const POD_UID_HEADER = 'x-cloudbase-pod-uid';

/** Set by an activator that passes an announcement on to its peers, which pass it no further. */
export const ANNOUNCE_FORWARDED_HEADER = 'x-cloudbase-announce-forwarded';

/** The largest announcement body an activator reads. */
export const MAX_ANNOUNCEMENT_BYTES = 1024;

/** The announcement's JSON body. */
export interface Announcement {
  uid: string;
  ip: string;
}

/** The announcement in a body, or an error naming what is wrong with it. */
export function parseAnnouncement(body: string): Announcement | Error {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return new Error('the announcement is not JSON: expected {"uid":"<pod uid>","ip":"<pod ip>"}');
  }
  const { uid, ip } = (value ?? {}) as Record<string, unknown>;
  if (typeof uid !== 'string' || !/^[0-9A-Za-z-]{1,64}$/.test(uid))
    return new Error(`the announcement's uid ${JSON.stringify(uid)} is not a pod UID`);
  if (typeof ip !== 'string' || isIP(ip) === 0)
    return new Error(`the announcement's ip ${JSON.stringify(ip)} is not an IP address`);
  return { uid, ip };
}

/** The bearer token of an `Authorization` header, or an error naming what is missing. */
export function bearerToken(authorization: string | undefined): string | Error {
  const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '');
  if (match === null)
    return new Error(
      `the announcement has no bearer token: expected Authorization: Bearer <the pod's ${ANNOUNCE_AUDIENCE} token>`,
    );
  return match[1]!;
}
