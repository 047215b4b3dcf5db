import type { V1EndpointSlice } from '@kubernetes/client-node';

/**
 * How a request reaching the activator names its function. The controller's headers Middleware on every
 * function's route sets both headers (Traefik replaces whatever a client sent, so they cannot be forged
 * through it); a caller inside the cluster that used the Service's DNS name is known by its Host.
 * https://doc.traefik.io/traefik/v3.6/middlewares/http/headers/#customrequestheaders
 */
export const ActivatorHeader = {
  /** `<namespace>/<function>`. */
  function: 'x-cloudbase-function',
  /** The function's Deployment, whose scale the activator raises from zero. */
  deployment: 'x-cloudbase-deployment',
} as const;

/** Where a held request goes: the function (its pods' label) and the Deployment to scale. */
export interface ActivatorTarget {
  namespace: string;
  function: string;
  deployment: string;
}

const LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_HOST = /^([a-z][-a-z0-9]*)\.([a-z0-9][-a-z0-9]*)(\.svc(\.[a-z0-9.-]+)?)?(:\d+)?$/;

/** The target a request names, or a sentence saying why it names none. */
export function activatorTarget(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): ActivatorTarget | Error {
  const named = headers[ActivatorHeader.function];
  if (typeof named === 'string') {
    const [namespace = '', fn = '', extra] = named.split('/');
    const deployment = headers[ActivatorHeader.deployment];
    const deploymentName = typeof deployment === 'string' ? deployment : fn;
    if (extra !== undefined || !LABEL.test(namespace) || !LABEL.test(fn) || !LABEL.test(deploymentName))
      return new Error(`${ActivatorHeader.function}=${JSON.stringify(named)} is not <namespace>/<function>`);
    return { namespace, function: fn, deployment: deploymentName };
  }
  const host = headers.host;
  const match = typeof host === 'string' ? SERVICE_HOST.exec(host.toLowerCase()) : null;
  if (match === null)
    return new Error(
      `the request names no function: no ${ActivatorHeader.function} header, and its Host ${JSON.stringify(host ?? '')} is not a function Service's name (<function>.<namespace>[.svc])`,
    );
  return { namespace: match[2]!, function: match[1]!, deployment: match[1]! };
}

/** An activator pod's address on the pod network, its function-server port and its admin port. */
export interface ActivatorEndpoint {
  ip: string;
  httpPort: number;
  adminPort: number;
}

/**
 * The activator pods its Service's EndpointSlices list, by the Service's ports named `http` and `admin`:
 * the ready ones, or (`serving`) also those that are terminating but still serve, and may hold requests.
 * https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#conditions
 */
export function activatorEndpoints(
  slices: readonly V1EndpointSlice[],
  which: 'ready' | 'serving',
): ActivatorEndpoint[] {
  return slices.flatMap((slice) => {
    const httpPort = slice.ports?.find((p) => p.name === 'http')?.port;
    const adminPort = slice.ports?.find((p) => p.name === 'admin')?.port;
    if (httpPort == null || adminPort == null) return [];
    return (slice.endpoints ?? [])
      .filter((e) =>
        which === 'ready'
          ? e.conditions?.ready === true
          : (e.conditions?.serving ?? e.conditions?.ready) === true,
      )
      .flatMap((e) => e.addresses.map((ip) => ({ ip, httpPort, adminPort })));
  });
}
