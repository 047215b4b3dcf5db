/**
 * A function pod as the autoscaler and the activator see it: where its function server and its admin server
 * listen, and whether Kubernetes counts it ready. Read from the pod's status and the ports the mutating
 * webhook declared (contract/ports.ts).
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { Label } from '../contract/annotations.js';
import { PortName } from '../contract/ports.js';

export interface FunctionPod {
  uid: string;
  namespace: string;
  name: string;
  /** The function it serves (the `cloudbase.dev/function` label). */
  function: string;
  ip: string;
  httpPort: number;
  adminPort: number;
  /** Its Ready condition is True. */
  ready: boolean;
}

/**
 * The pod's addresses, or undefined for one that cannot serve: no IP yet (unless `withoutIp`, which gives
 * such a pod with `ip` empty), being deleted, finished, or without the named ports.
 */
export function functionPod(pod: V1Pod, withoutIp = false): FunctionPod | undefined {
  const metadata = pod.metadata;
  const ip = pod.status?.podIP ?? '';
  const fn = metadata?.labels?.[Label.function];
  if ((ip === '' && !withoutIp) || fn === undefined || metadata?.deletionTimestamp != null) return undefined;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined;
  let httpPort: number | undefined;
  let adminPort: number | undefined;
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === PortName.http) httpPort = port.containerPort;
      if (port.name === PortName.admin) adminPort = port.containerPort;
    }
  }
  if (httpPort === undefined || adminPort === undefined) return undefined;
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    uid: metadata?.uid ?? '',
    namespace: metadata?.namespace ?? '',
    name: metadata?.name ?? '',
    function: fn,
    ip,
    httpPort,
    adminPort,
    ready,
  };
}

/** `namespace/function`, the key the autoscaler and the activator index functions by. */
export const functionKeyOf = (namespace: string, fn: string): string => `${namespace}/${fn}`;

/**
 * Trims a pod, in place, to what {@link functionPod} reads: its IP, phase and Ready condition, its
 * containers' names and ports, and its metadata without annotations and managedFields. A watched pod is
 * otherwise mostly its spec and status, which a cache of every function pod need not hold.
 */
export function slimFunctionPod<T extends KubernetesObject>(object: T): T {
  const pod = object as {
    metadata?: { annotations?: unknown; managedFields?: unknown } | null;
    spec?: { containers?: { name: string; ports?: unknown }[] };
    status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
  };
  if (pod.metadata != null) {
    delete pod.metadata.annotations;
    delete pod.metadata.managedFields;
  }
  const containers = (pod.spec?.containers ?? []).map(({ name, ports }) => ({ name, ports }));
  const status = pod.status;
  const ready = status?.conditions
    ?.filter((c) => c.type === 'Ready')
    .map(({ type, status }) => ({ type, status }));
  for (const key of Object.keys(pod))
    if (!['apiVersion', 'kind', 'metadata'].includes(key)) delete (pod as Record<string, unknown>)[key];
  pod.spec = { containers };
  pod.status = { phase: status?.phase, podIP: status?.podIP, conditions: ready ?? [] };
  return object;
}
