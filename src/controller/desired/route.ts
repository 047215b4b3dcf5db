import { IngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute';
import { Middleware } from '@kubernetes-models/traefik/traefik.io/v1alpha1/Middleware';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { childMetadata, type FunctionOwner } from './owner.js';
import { SERVICE_PORT } from './service.js';

/**
 * The Traefik rule for a function's route. Traefik's PathPrefix is a plain string prefix, so `/hello` alone
 * would also match `/helloworld`; the route is the path itself or anything below it.
 * https://doc.traefik.io/traefik/routing/routers/#path-pathprefix-and-pathregexp
 */
export function routeRule(spec: FunctionSpec): string {
  const { pathPrefix, host } = spec.route;
  const path =
    pathPrefix === '/' ? 'PathPrefix(`/`)' : `(Path(\`${pathPrefix}\`) || PathPrefix(\`${pathPrefix}/\`))`;
  return host === undefined ? path : `Host(\`${host}\`) && ${path}`;
}

export function stripPrefixName(spec: FunctionSpec): string {
  return `${spec.name}-strip-prefix`;
}

/** Strips the route's prefix, so the handler sees paths relative to its route (`/hello/x` → `/x`). */
export function desiredStripPrefix(spec: FunctionSpec, owner: FunctionOwner): Middleware | undefined {
  if (spec.route.pathPrefix === '/') return undefined;
  const middleware = new Middleware({
    metadata: childMetadata(stripPrefixName(spec), spec, owner),
    spec: { stripPrefix: { prefixes: [spec.route.pathPrefix] } },
  });
  middleware.validate();
  return middleware;
}

/** The IngressRoute that sends the function's entrypoint traffic to its Service; validated before use. */
export function desiredIngressRoute(spec: FunctionSpec, owner: FunctionOwner): IngressRoute {
  const middlewares = spec.route.pathPrefix === '/' ? [] : [{ name: stripPrefixName(spec) }];
  const route = new IngressRoute({
    metadata: childMetadata(spec.name, spec, owner),
    spec: {
      entryPoints: spec.route.entrypoints,
      routes: [
        {
          kind: 'Rule',
          match: routeRule(spec),
          services: [{ name: spec.name, port: SERVICE_PORT }],
          ...(middlewares.length === 0 ? {} : { middlewares }),
        },
      ],
    },
  });
  route.validate();
  return route;
}
