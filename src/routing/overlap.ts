import type { FunctionSpec } from '../contract/function-spec.js';

/**
 * Whether two functions' routes would take each other's requests. Traefik ranks routers by rule length
 * (https://doc.traefik.io/traefik/routing/routers/#priority), so a longer path, or a host-bound rule over a
 * host-less one, silently captures part of the other's traffic:
 * - across namespaces, two routes overlap when they share an entrypoint, their hosts are equal or either is
 *   host-less, and one path is the other or below it on a segment boundary (`/shop` and `/shop/checkout`,
 *   never `/shop` and `/shopping`);
 * - inside one namespace a team may nest its own routes, so only the identical route (same host and path on
 *   a shared entrypoint) overlaps.
 */
export function routesOverlap(a: FunctionSpec, b: FunctionSpec): boolean {
  const [ra, rb] = [a.route, b.route];
  if (ra === undefined || rb === undefined) return false; // an event function has no route
  if (!ra.entrypoints.some((entrypoint) => rb.entrypoints.includes(entrypoint))) return false;
  if (a.namespace === b.namespace) return ra.host === rb.host && ra.pathPrefix === rb.pathPrefix;
  const hosts = ra.host === undefined || rb.host === undefined || ra.host === rb.host;
  return hosts && pathsNest(ra.pathPrefix, rb.pathPrefix);
}

/** One path is the other, or below it on a segment boundary. Paths are normalised: no trailing `/` but `/`. */
export function pathsNest(a: string, b: string): boolean {
  return isWithin(a, b) || isWithin(b, a);
}

/** `path` is `prefix` or below it on a segment boundary. */
export function isWithin(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}
