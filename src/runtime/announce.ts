/**
 * Once the function server listens, the runtime tells the activator so (contract/announce.ts): requests
 * held while the function was at zero then reach this pod without waiting for the kubelet to publish its
 * IP. Best effort: an activator that is down or refuses costs only that shortcut, since the activator
 * still learns of the pod from its watch. Never delays or fails the runtime.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ANNOUNCE_PATH, type Announcement } from '../contract/announce.js';
import type { AnnounceConfig } from './config.js';

const ATTEMPT_TIMEOUT_MS = 1000;
/** Pauses before the second and third attempts: an activator restarting is back within these. */
const RETRY_DELAYS_MS = [100, 400] as const;

/** Announces the pod; resolves true once an activator took it, false after the last attempt failed. */
export async function announceReady(config: AnnounceConfig, logger: Logger): Promise<boolean> {
  const url = new URL(ANNOUNCE_PATH, config.activatorUrl);
  const body: Announcement = { uid: config.uid, ip: config.ip };
  for (let attempt = 0; ; attempt++) {
    const outcome = await announceOnce(url, config.tokenFile, body);
    if (outcome === undefined) {
      logger.debug({ activator: url.origin }, 'announced to the activator');
      return true;
    }
    // A refusal with a reason (4xx) does not change on retry.
    const delay = outcome.final ? undefined : RETRY_DELAYS_MS[attempt];
    if (delay === undefined) {
      logger.warn(
        { activator: url.origin, reason: outcome.reason },
        'the activator did not take the announcement; held requests wait for the pod watch',
      );
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Undefined when taken; else why not, and whether a retry could help. */
async function announceOnce(
  url: URL,
  tokenFile: string,
  body: Announcement,
): Promise<{ reason: string; final: boolean } | undefined> {
  let token: string;
  try {
    token = (await readFile(tokenFile, 'utf8')).trim();
  } catch (err) {
    return { reason: `cannot read the announcement token ${tokenFile}: ${String(err)}`, final: true };
  }
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.ok) return undefined;
    return { reason: `${response.status}: ${text}`, final: response.status < 500 };
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err), final: false };
  }
}
