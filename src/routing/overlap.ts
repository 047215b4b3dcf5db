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
  if (!a.route.entrypoints.some((entrypoint) => b.route.entrypoints.includes(entrypoint))) return false;
  if (a.namespace === b.namespace) {
    return a.route.host === b.route.host && a.route.pathPrefix === b.route.pathPrefix;
  }
  const hosts = a.route.host === undefined || b.route.host === undefined || a.route.host === b.route.host;
  return hosts && pathsNest(a.route.pathPrefix, b.route.pathPrefix);
}

/** One path is the other, or below it on a segment boundary. Paths are normalised: no trailing `/` but `/`. */
export function pathsNest(a: string, b: string): boolean {
  return isWithin(a, b) || isWithin(b, a);
}

/** `path` is `prefix` or below it on a segment boundary. */
export function isWithin(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}
