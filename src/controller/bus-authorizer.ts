/**
 * The controller's answer to the bus's auth callout (bus/auth-callout.ts): a client's token goes to the
 * API server (TokenReview for the bus audience), its pod is read, and contract/bus-access.ts decides who it
 * is and what it may do. Thin: every rule lives in that contract module.
 */
import type { Logger } from 'pino';
import type { BusGrant } from '../bus/auth-callout.js';
import {
  BUS_AUDIENCE,
  busIdentityOf,
  busPermissions,
  busSessionEnd,
  busUserName,
  type BusRoles,
  type BusTokenPod,
} from '../contract/bus-access.js';
import type { ServiceAccountToken } from '../kube/client.js';

export interface BusAuthorizerDeps {
  review: (token: string, audience: string) => Promise<ServiceAccountToken | Error>;
  pod: (namespace: string, name: string) => Promise<BusTokenPod | undefined>;
  roles: BusRoles;
  logger: Logger;
  now?: () => number;
}

/** The grant for a token, or why there is none (an API server that cannot be asked is a refusal too). */
export function busAuthorizer(deps: BusAuthorizerDeps): (token: string) => Promise<BusGrant | Error> {
  const now = deps.now ?? Date.now;
  return async (token) => {
    const reviewed = await deps.review(token, BUS_AUDIENCE);
    if (reviewed instanceof Error) return reviewed;
    const pod =
      reviewed.podName === undefined ? undefined : await deps.pod(reviewed.namespace, reviewed.podName);
    const identity = busIdentityOf(reviewed, pod, deps.roles);
    if (identity instanceof Error) return identity;
    return {
      user: busUserName(identity),
      permissions: busPermissions(identity),
      expiresAt: busSessionEnd(token, Math.floor(now() / 1000)),
    };
  };
}
