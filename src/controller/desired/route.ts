import { createHash } from 'node:crypto';
import { IngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute';
import { Middleware } from '@kubernetes-models/traefik/traefik.io/v1alpha1/Middleware';
import { ServersTransport } from '@kubernetes-models/traefik/traefik.io/v1alpha1/ServersTransport';
import { ActivatorHeader } from '../../contract/activator.js';
import { Label, MANAGED_BY } from '../../contract/annotations.js';
import type { FunctionSpec, RoutedFunctionSpec } from '../../contract/function-spec.js';
import { childMetadata, type FunctionOwner } from './owner.js';
import { SERVICE_PORT } from './service.js';

/**
 * The Traefik rule for a function's route. Traefik's PathPrefix is a plain string prefix, so `/hello` alone
 * would also match `/helloworld`; the route is the path itself or anything below it.
 * https://doc.traefik.io/traefik/routing/routers/#path-pathprefix-and-pathregexp
 */
export function routeRule(spec: RoutedFunctionSpec): string {
  const { pathPrefix, host } = spec.route;
  const path =
    pathPrefix === '/' ? 'PathPrefix(`/`)' : `(Path(\`${pathPrefix}\`) || PathPrefix(\`${pathPrefix}/\`))`;
  return host === undefined ? path : `Host(\`${host}\`) && ${path}`;
}

/**
 * The name Traefik's API gives the service of the function's IngressRoute: `<namespace>-<route name>-` and
 * the first 10 bytes of the rule's sha256 in hex (Traefik v3.6 pkg/provider/kubernetes/crd makeServiceKey).
 * The controller reads its servers to confirm the activator is the route.
 */
export function traefikServiceName(spec: RoutedFunctionSpec): string {
  const hash = createHash('sha256').update(routeRule(spec)).digest('hex').slice(0, 20);
  return `${spec.namespace}-${spec.name}-${hash}@kubernetescrd`;
}

export function stripPrefixName(spec: FunctionSpec): string {
  return `${spec.name}-strip-prefix`;
}

/** Strips the route's prefix, so the handler sees paths relative to its route (`/hello/x` → `/x`). */
export function desiredStripPrefix(spec: RoutedFunctionSpec, owner: FunctionOwner): Middleware | undefined {
  if (spec.route.pathPrefix === '/') return undefined;
  const middleware = new Middleware({
    metadata: childMetadata(stripPrefixName(spec), spec, owner),
    spec: { stripPrefix: { prefixes: [spec.route.pathPrefix] } },
  });
  middleware.validate();
  return middleware;
}

export function retryName(spec: FunctionSpec): string {
  return `${spec.name}-retry`;
}

/**
 * Retries a request whose connection to a pod failed before its headers were written (a pod that just went
 * away, a refused connection), never one a pod may have seen: Traefik's retry stops as soon as the request
 * headers are written (v3.6 pkg/middlewares/retry, `WroteHeaders`), so a handler never runs twice for one
 * request. https://doc.traefik.io/traefik/v3.6/middlewares/http/retry/
 */
export function desiredRetry(spec: FunctionSpec, owner: FunctionOwner): Middleware {
  const middleware = new Middleware({
    metadata: childMetadata(retryName(spec), spec, owner),
    spec: { retry: { attempts: RETRY_ATTEMPTS, initialInterval: RETRY_INITIAL_INTERVAL } },
  });
  middleware.validate();
  return middleware;
}

/**
 * The namespace's one ServersTransport, which every function route there names: one object per namespace,
 * not per function, since Traefik rebuilds on every object and a write costs the API server the same
 * whatever it holds. The `cloudbase-` prefix is Cloudbase's, as for the names it injects into pods.
 */
export const NAMESPACE_TRANSPORT = 'cloudbase-functions';

/**
 * How Traefik connects to the function's pods (and, at zero, to the activator): a connection that is not
 * established within {@link DIAL_TIMEOUT} (500 ms) fails, and the retry middleware sends the request to
 * another server, since nothing of it went out. Traefik's default waits 30 s, which a pod that vanished with
 * its network namespace (a crash, a force delete: no refusal ever comes back) costs every request Traefik
 * sends it until its next rebuild drops the address. On the pod network a connection takes well under a
 * millisecond. Owned by no function: the controller deletes it with the namespace's last function.
 * https://doc.traefik.io/traefik/v3.6/routing/providers/kubernetes-crd/#kind-serverstransport
 */
export function desiredNamespaceTransport(namespace: string): ServersTransport {
  const transport = new ServersTransport({
    metadata: { name: NAMESPACE_TRANSPORT, namespace, labels: { [Label.managedBy]: MANAGED_BY } },
    spec: { forwardingTimeouts: { dialTimeout: DIAL_TIMEOUT } },
  });
  transport.validate();
  return transport;
}

const DIAL_TIMEOUT = '500ms';

export function functionHeadersName(spec: FunctionSpec): string {
  return `${spec.name}-function`;
}

/**
 * Names the function on every request (contract/activator.ts), replacing whatever a client sent: the
 * activator, which the route reaches while the function is at zero, reads it; a pod ignores it.
 * https://doc.traefik.io/traefik/v3.6/middlewares/http/headers/#customrequestheaders
 */
export function desiredFunctionHeaders(spec: FunctionSpec, owner: FunctionOwner): Middleware {
  const middleware = new Middleware({
    metadata: childMetadata(functionHeadersName(spec), spec, owner),
    spec: {
      headers: {
        customRequestHeaders: {
          [ActivatorHeader.function]: `${spec.namespace}/${spec.name}`,
          [ActivatorHeader.deployment]: owner.name,
        },
      },
    },
  });
  middleware.validate();
  return middleware;
}

/**
 * Five tries, 100 ms apart at first (Traefik adds jitter). A retry picks again among the servers of the
 * configuration the request started with, so one that vanished may be picked again until Traefik's rebuild
 * drops it: each further try halves the chance that a request sent there is still unanswered.
 */
const RETRY_ATTEMPTS = 5;
const RETRY_INITIAL_INTERVAL = '100ms';

/** The names of every child a function may have, for the reconciler's cache lookups. */
export function childNames(spec: FunctionSpec): string[] {
  return [spec.name, stripPrefixName(spec), retryName(spec), functionHeadersName(spec)];
}

/** The IngressRoute that sends the function's entrypoint traffic to its Service; validated before use. */
export function desiredIngressRoute(spec: RoutedFunctionSpec, owner: FunctionOwner): IngressRoute {
  // Retry outermost, so each attempt gets the path before the prefix is stripped.
  const middlewares = [
    { name: retryName(spec) },
    { name: functionHeadersName(spec) },
    ...(spec.route.pathPrefix === '/' ? [] : [{ name: stripPrefixName(spec) }]),
  ];
  const route = new IngressRoute({
    metadata: childMetadata(spec.name, spec, owner),
    spec: {
      entryPoints: spec.route.entrypoints,
      routes: [
        {
          kind: 'Rule',
          match: routeRule(spec),
          services: [{ name: spec.name, port: SERVICE_PORT, serversTransport: NAMESPACE_TRANSPORT }],
          middlewares,
        },
      ],
    },
  });
  route.validate();
  return route;
}
