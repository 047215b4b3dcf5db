import type { FunctionSpec } from '../contract/function-spec.js';
import { parseHost, parseRoute, type FieldResult } from '../contract/fields.js';
import { isWithin } from './overlap.js';

/**
 * Route grants: what a namespace's functions may claim, set by a cluster admin as annotations on the
 * Namespace object, which tenants with namespace-scoped roles cannot edit. A namespace without them may
 * claim any route (a one-team cluster changes nothing); overlap with other namespaces is refused either way.
 * https://kubernetes.io/docs/concepts/security/multi-tenancy/
 */
export const GrantAnnotation = {
  /** Comma-separated hosts: exact (`api.example.com`) or `*.example.com` (any name below it). */
  hosts: 'cloudbase.dev/allowed-hosts',
  /** Comma-separated path prefixes: a route must be one of them or below it on a segment boundary. */
  pathPrefixes: 'cloudbase.dev/allowed-path-prefixes',
} as const;

export interface RouteGrant {
  /** Undefined: any host, host-less routes included. */
  hosts?: readonly string[];
  /** Undefined: any path. */
  pathPrefixes?: readonly string[];
  /**
   * Hosts no namespace may route, whatever its grant: the platform's own (the controller's
   * `--reserved-hosts`, e.g. the event ingest's). Not read from annotations.
   */
  reservedHosts?: readonly string[];
}

/** A namespace's grant, or why its annotations cannot be read (then nothing is granted: fail closed). */
export type GrantResult = { ok: true; grant: RouteGrant } | { ok: false; problem: string };

/** Reads a Namespace's grant annotations. */
export function parseGrant(
  namespace: string,
  annotations: Readonly<Record<string, string>> | undefined,
): GrantResult {
  const grant: { hosts?: string[]; pathPrefixes?: string[] } = {};
  const problems: string[] = [];
  /** Each item of a comma-separated list, normalised by `read`, or the problem with it. */
  const list = (key: string, read: (item: string) => FieldResult<string>): string[] | undefined => {
    const value = annotations?.[key];
    if (value === undefined) return undefined;
    const items: string[] = [];
    for (const item of value.split(',').map((part) => part.trim())) {
      const parsed: FieldResult<string> = item === '' ? { ok: false, problem: 'is empty' } : read(item);
      if (parsed.ok) items.push(parsed.value);
      else problems.push(`${key} has ${JSON.stringify(item)}, which ${parsed.problem}`);
    }
    return items;
  };
  const hosts = list(GrantAnnotation.hosts, parseHostPattern);
  const pathPrefixes = list(GrantAnnotation.pathPrefixes, parseRoute);
  if (problems.length > 0) {
    return {
      ok: false,
      problem: `the route grant on Namespace ${namespace} cannot be read (${problems.join('; ')}), so no route is granted there; a cluster admin must fix the annotation`,
    };
  }
  if (hosts !== undefined) grant.hosts = hosts;
  if (pathPrefixes !== undefined) grant.pathPrefixes = pathPrefixes;
  return { ok: true, grant };
}

/** An exact host, or `*.` and the domain below which every name is granted. */
function parseHostPattern(item: string): FieldResult<string> {
  const wildcard = item.startsWith('*.');
  const parsed = parseHost(wildcard ? item.slice(2) : item);
  return parsed.ok ? { ok: true, value: wildcard ? `*.${parsed.value}` : parsed.value } : parsed;
}

/** Why the namespace's grant does not cover the function's route; undefined when it does. */
export function grantProblem(spec: FunctionSpec, result: GrantResult): string | undefined {
  const route = spec.route;
  if (route === undefined) return undefined; // an event function claims no route
  if (!result.ok) return result.problem;
  const { hosts, pathPrefixes, reservedHosts } = result.grant;
  const where = `Namespace ${spec.namespace}`;
  if (route.host !== undefined && reservedHosts?.includes(route.host) === true) {
    return `host ${route.host} is reserved for Cloudbase itself (the controller's --reserved-hosts) and routes no function; use another host`;
  }
  if (hosts !== undefined) {
    const allowed = hosts.join(', ');
    if (route.host === undefined) {
      return `${where} may only route hosts ${allowed} (${GrantAnnotation.hosts}); set cloudbase.dev/host to one of them`;
    }
    if (!hosts.some((pattern) => hostMatches(route.host!, pattern))) {
      return `host ${route.host} is not granted to ${where}, which may route ${allowed} (${GrantAnnotation.hosts}); use one of them or ask a cluster admin`;
    }
  }
  if (pathPrefixes !== undefined && !pathPrefixes.some((prefix) => isWithin(route.pathPrefix, prefix))) {
    return `route ${route.pathPrefix} is not granted to ${where}, which may route ${pathPrefixes.join(', ')} and below (${GrantAnnotation.pathPrefixes}); choose a route within them or ask a cluster admin`;
  }
  return undefined;
}

/** `*.example.com` matches any name below example.com (not example.com itself); others match exactly. */
export function hostMatches(host: string, pattern: string): boolean {
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
}
