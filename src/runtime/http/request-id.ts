/** The id that ties a request's answer (`x-request-id`) to its log lines. */
import { randomUUID } from 'node:crypto';

/** A caller's id is kept when it is a sane token (what a proxy or tracer would send), so traces join up. */
const SANE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** The caller's `x-request-id` when it is usable, else a fresh UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}
