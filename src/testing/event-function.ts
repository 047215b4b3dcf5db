/** An event function on the local cluster, as the cluster tests and benchmarks apply it. */

export interface EventFunctionOptions {
  namespace: string;
  name: string;
  /** The handler module, `index.js` of the function's ConfigMap (an ES module). */
  code: string;
  /** `cloudbase.dev/events`. */
  types: string;
  replicas: number;
  /** More `cloudbase.dev/*` annotations (concurrency, backoff, scaling bounds). */
  annotations?: Record<string, string>;
}

/** A ConfigMap with the code and a Deployment that is an event function using it, as kubectl-apply YAML. */
export function eventFunctionYaml(options: EventFunctionOptions): string {
  const { namespace, name } = options;
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-code`, namespace },
    data: { 'index.js': options.code, 'package.json': '{ "type": "module" }' },
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': `configmap:${name}-code`,
        'cloudbase.dev/trigger': 'event',
        'cloudbase.dev/events': options.types,
        ...options.annotations,
      },
    },
    spec: { replicas: options.replicas, template: { spec: { containers: [{ name: 'function' }] } } },
  };
  return [configMap, deployment].map((o) => JSON.stringify(o)).join('\n');
}
