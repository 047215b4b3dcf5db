import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Agent, AgentOptions } from 'node:https';

/** The field manager of everything Cloudbase writes with server-side apply. */
export const FIELD_MANAGER = 'cloudbase';

/** Every Kubernetes API Cloudbase uses, from one kubeconfig. The only module that builds API clients. */
export interface Kube {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  coordination: CoordinationV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
  admission: AdmissionregistrationV1Api;
}

/** Connects with the given kubeconfig file, else KUBECONFIG, ~/.kube/config or the in-cluster service account. */
export function connect(kubeconfigPath?: string): Kube {
  const config = new KubeConfig();
  if (kubeconfigPath === undefined) config.loadFromDefault();
  else config.loadFromFile(kubeconfigPath);
  reuseConnections(config);
  if (config.getCurrentCluster() === null) {
    throw new Error(
      `no Kubernetes cluster in ${kubeconfigPath ?? 'the default kubeconfig'}; pass --kubeconfig or run in a pod`,
    );
  }
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(config),
    admission: config.makeApiClient(AdmissionregistrationV1Api),
  };
}

/**
 * client-node 1.x builds a new https.Agent for every request, so every API call pays a TLS handshake (about
 * a third of a write's latency here). One keep-alive agent per kubeconfig and TLS setting reuses connections.
 */
function reuseConnections(config: KubeConfig): void {
  const target = config as unknown as { createAgent: (cluster: unknown, options: AgentOptions) => Agent };
  const create = target.createAgent.bind(config);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const key = `${String(options.rejectUnauthorized)} ${options.servername ?? ''}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = create(cluster, { ...options, keepAlive: true });
      agents.set(key, agent);
    }
    return agent;
  };
}

/**
 * Server-side apply: the API server merges our fields, keeps others' and records us as their manager.
 * `force` takes over fields another manager set (a hand edit of a child is drift we repair).
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */
export async function applyObject<T extends KubernetesObject>(kube: Kube, object: T): Promise<T> {
  return kube.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

/** A JSON merge patch (RFC 7386): `null` values remove keys. */
export async function mergePatch<T extends KubernetesObject>(kube: Kube, patch: T): Promise<T> {
  return kube.objects.patch(patch, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
}

/** Deletes an object; one that is already gone is fine. */
export async function deleteIfExists(kube: Kube, object: KubernetesObject): Promise<void> {
  try {
    await kube.objects.delete(object);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * The keys of a ConfigMap (`data` and `binaryData`), or undefined when it does not exist or cannot be read
 * within `timeoutMs`. For admission: a webhook answers within the API server's timeout whatever the API does.
 */
export async function readConfigMapKeys(
  kube: Kube,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<string[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const read = kube.core
    .readNamespacedConfigMap({ name, namespace })
    .then((configMap) => [...Object.keys(configMap.data ?? {}), ...Object.keys(configMap.binaryData ?? {})]);
  try {
    return await Promise.race([read, timedOut]);
  } finally {
    clearTimeout(timer);
    // A late failure after the timeout must not become an unhandled rejection.
    read.catch(() => undefined);
  }
}

export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export const isNotFound = (error: unknown): boolean => statusCode(error) === 404;
export const isConflict = (error: unknown): boolean => statusCode(error) === 409;

/**
 * A write refused because its namespace is being deleted (403 with cause `NamespaceTerminating`): retrying
 * cannot succeed, and the namespace's deletion takes the object's owner away anyway.
 * https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/namespace-v1/
 */
export function isNamespaceTerminating(error: unknown): boolean {
  if (statusCode(error) !== 403) return false;
  const causes = (parsedBody((error as ApiException<unknown>).body) as StatusBody | undefined)?.details
    ?.causes;
  return causes?.some((cause) => cause.reason === 'NamespaceTerminating') ?? false;
}

/** A Kubernetes Status, as JSON: a StatusCause's type travels as `reason`. */
interface StatusBody {
  message?: unknown;
  details?: { causes?: { reason?: string }[] };
}

/** A one-line description of an API error for logs and events: status code and the server's message. */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    // ApiException's own message spans lines ("HTTP-Code: ..\nMessage: ..\nBody: .."): keep its Message line.
    const fallback = /^Message: (.*)$/m.exec(error.message)?.[1] ?? error.message;
    return `HTTP ${error.code}: ${statusMessage(error.body) ?? fallback}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The `message` of a Kubernetes Status body; a body that is not a Status is its own message. */
function statusMessage(body: unknown): string | undefined {
  const message = (parsedBody(body) as StatusBody | undefined)?.message;
  if (typeof message === 'string') return message;
  return typeof body === 'string' ? body : undefined;
}

/** client-node hands a Status body over parsed or as JSON text. */
function parsedBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
