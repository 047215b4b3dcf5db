/**
 * The bus's auth callout: NATS sends each connecting client's credentials to `$SYS.REQ.USER.AUTH` in the
 * callout account and lets it in as the user the answer describes, signed by the issuer key its config
 * names. This module is the responder only: decode the request, ask `authorize` about the client's token,
 * encode the user (its permissions, its expiry) or the refusal. Several responders share the work as one
 * queue group; the callout is asked on every connect, so a revoked or expired token gets no new session.
 * https://docs.nats.io/running-a-nats-service/configuration/securing_nats/auth_callout
 */
import { decode, encodeAuthorizationResponse, encodeUser, type AuthorizationRequest } from '@nats-io/jwt';
import type { KeyPair } from '@nats-io/nkeys';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { BusPermissions } from '../contract/bus-access.js';

export const AUTH_CALLOUT_SUBJECT = '$SYS.REQ.USER.AUTH';
const QUEUE_GROUP = 'cloudbase-auth-callout';

/** Who the client is allowed in as. */
export interface BusGrant {
  /** The user name the bus shows. */
  user: string;
  permissions: BusPermissions;
  /** When the session ends (seconds since the epoch): the token's own expiry. */
  expiresAt: number;
}

export interface AuthCalloutOptions {
  /** The responder's connection, as a user of the callout account (which the callout does not ask about). */
  connection: NatsConnection;
  /** The account key the servers' `auth_callout.issuer` names: it signs every answer. */
  issuer: KeyPair;
  /** The account every granted user works in. */
  account: string;
  /** The grant for a client's token, or why it gets none. */
  authorize: (token: string) => Promise<BusGrant | Error>;
  logger: Logger;
}

export interface AuthCallout {
  stop(): Promise<void>;
}

/** Answers the servers' callout requests until stopped. */
export function serveAuthCallout(options: AuthCalloutOptions): AuthCallout {
  const subscription: Subscription = options.connection.subscribe(AUTH_CALLOUT_SUBJECT, {
    queue: QUEUE_GROUP,
    callback: (error, msg) => {
      if (error !== null) {
        options.logger.warn({ err: error }, 'bus auth callout: subscription failed');
        return;
      }
      void answer(msg, options);
    },
  });
  return {
    stop: async () => {
      await subscription.drain().catch(() => undefined);
    },
  };
}

async function answer(msg: Msg, options: AuthCalloutOptions): Promise<void> {
  let request: Partial<AuthorizationRequest>;
  try {
    request = decode<AuthorizationRequest>(msg.string()).nats;
  } catch (error) {
    // Only a server publishes here (the callout account has no other user); nothing to answer to.
    options.logger.warn({ err: error }, 'bus auth callout: a request that is not an authorization JWT');
    return;
  }
  const userKey = request.user_nkey;
  const serverId = request.server_id?.id;
  if (userKey === undefined || serverId === undefined) {
    options.logger.warn('bus auth callout: a request without user_nkey or server_id');
    return;
  }
  const client = request.client_info?.name ?? '';
  const grant = await decide(request, options).catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  try {
    const response =
      grant instanceof Error
        ? await encodeAuthorizationResponse(userKey, serverId, options.issuer, { error: grant.message }, {})
        : await encodeAuthorizationResponse(
            userKey,
            serverId,
            options.issuer,
            { jwt: await userJwt(userKey, grant, options) },
            {},
          );
    msg.respond(response);
    if (grant instanceof Error)
      options.logger.info({ client, reason: grant.message }, 'bus auth callout: refused a client');
    else options.logger.debug({ client, user: grant.user }, 'bus auth callout: let a client in');
  } catch (error) {
    options.logger.error({ err: error, client }, 'bus auth callout: could not answer');
  }
}

async function decide(
  request: Partial<AuthorizationRequest>,
  options: AuthCalloutOptions,
): Promise<BusGrant | Error> {
  const token = request.connect_opts?.auth_token;
  if (token === undefined || token === '')
    return new Error(
      'no token: connect with a Kubernetes service account token for the bus audience (README, "Event functions")',
    );
  return options.authorize(token);
}

function userJwt(userKey: string, grant: BusGrant, options: AuthCalloutOptions): Promise<string> {
  return encodeUser(
    grant.user,
    userKey,
    options.issuer,
    {
      pub: { allow: grant.permissions.publish },
      sub: { allow: grant.permissions.subscribe },
    },
    { aud: options.account, exp: grant.expiresAt },
  );
}
