import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  type Cluster,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
  type Configuration,
  type KubernetesObject,
  type Middleware,
  type RequestContext,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:https';

/** The field manager of everything Cloudbase writes with server-side apply. */
export const FIELD_MANAGER = 'cloudbase';

/** Every Kubernetes API Cloudbase uses, from one kubeconfig. The only module that builds API clients. */
export interface Kube {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  coordination: CoordinationV1Api;
  custom: CustomObjectsApi;
  discovery: DiscoveryV1Api;
  objects: KubernetesObjectApi;
  admission: AdmissionregistrationV1Api;
  authentication: AuthenticationV1Api;
  authorization: AuthorizationV1Api;
}

/** Connects with the given kubeconfig file, else KUBECONFIG, ~/.kube/config or the in-cluster service account. */
export function connect(kubeconfigPath?: string): Kube {
  const config = new KubeConfig();
  if (kubeconfigPath === undefined) config.loadFromDefault();
  else config.loadFromFile(kubeconfigPath);
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new Error(
      `no Kubernetes cluster in ${kubeconfigPath ?? 'the default kubeconfig'}; pass --kubeconfig or run in a pod`,
    );
  }
  return clientsOf(config, cluster);
}

/** Every client of `Kube` for the kubeconfig's current cluster, over one configuration that pools connections. */
function clientsOf(config: KubeConfig, cluster: Cluster): Kube {
  // As KubeConfig.makeApiClient builds it, plus the pooling middleware.
  const configuration: Configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    promiseMiddleware: [reuseConnections()],
  });
  return {
    config,
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    batch: new BatchV1Api(configuration),
    coordination: new CoordinationV1Api(configuration),
    custom: new CustomObjectsApi(configuration),
    discovery: new DiscoveryV1Api(configuration),
    objects: new ContextObjectApi(configuration, config),
    admission: new AdmissionregistrationV1Api(configuration),
    authentication: new AuthenticationV1Api(configuration),
    authorization: new AuthorizationV1Api(configuration),
  };
}

/** KubernetesObjectApi on a given configuration, defaulting to the context's namespace as its makeApiClient does. */
class ContextObjectApi extends KubernetesObjectApi {
  constructor(configuration: Configuration, config: KubeConfig) {
    super(configuration);
    this.setDefaultNamespace(config);
  }
}

/**
 * client-node 1.x gives every request a new https.Agent (KubeConfig.applySecurityAuthentication), so every
 * API call pays a TLS handshake (about a third of a write's latency here). This middleware runs after it and
 * swaps that agent for one keep-alive agent per TLS identity, so requests reuse connections. Proxy agents
 * and plain-HTTP agents are left as they are.
 */
function reuseConnections(): Middleware {
  const agents = new Map<string, Agent>();
  return {
    pre: async (context: RequestContext): Promise<RequestContext> => {
      const fresh = context.getAgent();
      if (fresh?.constructor !== Agent) return context;
      const options = fresh.options;
      const key = tlsIdentity(options);
      let pooled = agents.get(key);
      if (pooled === undefined) {
        pooled = new Agent({ ...options, keepAlive: true });
        agents.set(key, pooled);
      }
      context.setAgent(pooled);
      return context;
    },
    post: async (response) => response,
  };
}

/** What decides whom a connection trusts and who it is: requests differing in these need their own agent. */
function tlsIdentity(options: AgentOptions): string {
  const { rejectUnauthorized, servername, ca, cert, key, pfx, passphrase } = options;
  // JSON of an array is unambiguous, and Buffers serialize as their bytes.
  const identity = JSON.stringify([rejectUnauthorized, servername, ca, cert, key, pfx, passphrase]);
  return createHash('sha256').update(identity).digest('hex');
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

/**
 * Sets a Deployment's replicas through its scale subresource, which no admission webhook of ours sees and
 * which leaves the rest of the object alone.
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/#update-replace-scale-of-the-specified-deployment
 */
export async function scaleDeployment(
  kube: Kube,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  await kube.apps.patchNamespacedDeploymentScale(
    { namespace, name, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/**
 * Raises a Deployment from zero to one replica, and only from zero: reads its scale, and replaces it with one
 * replica under the read's resourceVersion, so a racing write (an autoscaler's larger count) makes this one
 * fail with 409 rather than lower it. (A JSON patch `test` cannot do this: a Scale at zero omits
 * `spec.replicas`.) True if this call raised it.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#conflicts
 */
export async function scaleFromZero(kube: Kube, namespace: string, name: string): Promise<boolean> {
  const scale = await kube.apps.readNamespacedDeploymentScale({ namespace, name });
  if ((scale.spec?.replicas ?? 0) !== 0) return false;
  try {
    await kube.apps.replaceNamespacedDeploymentScale({
      namespace,
      name,
      body: { ...scale, spec: { ...scale.spec, replicas: 1 } },
      fieldManager: FIELD_MANAGER,
    });
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

/**
 * `http://<ClusterIP>:<port>` of a Service's port named `portName`: reachable from every pod through
 * kube-proxy, with or without cluster DNS. An error says what is missing.
 */
export async function serviceUrl(
  kube: Kube,
  namespace: string,
  name: string,
  portName: string,
): Promise<string | Error> {
  const service = await kube.core.readNamespacedService({ namespace, name });
  const ip = service.spec?.clusterIP;
  const port = service.spec?.ports?.find((p) => p.name === portName)?.port;
  if (ip == null || ip === '' || ip === 'None')
    return new Error(
      `Service ${namespace}/${name} has no cluster IP (a headless Service cannot be announced to)`,
    );
  if (port == null) return new Error(`Service ${namespace}/${name} has no port named ${portName}`);
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** The pod a service account token was bound to, as the API server vouches for it. */
export interface TokenPod {
  namespace: string;
  serviceAccount: string;
  podName: string;
  podUid: string;
}

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([a-z0-9-]+):([a-z0-9.-]+)$/;

/**
 * Asks the API server whose `token` is (a TokenReview for `audience`): the pod it is bound to, or an error
 * saying why it vouches for none. Needs `create` on `tokenreviews`.
 * https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/
 */
export async function reviewPodToken(kube: Kube, token: string, audience: string): Promise<TokenPod | Error> {
  const reviewed = await reviewServiceAccountToken(kube, token, audience);
  if (reviewed instanceof Error) return reviewed;
  const { namespace, serviceAccount, podName, podUid } = reviewed;
  if (podName === undefined || podUid === undefined)
    return new Error(
      `the token of "system:serviceaccount:${namespace}:${serviceAccount}" is not a service account token bound to a pod`,
    );
  return { namespace, serviceAccount, podName, podUid };
}

/** A service account token as the API server vouches for it: its account and, when bound, its pod. */
export interface ServiceAccountToken {
  namespace: string;
  serviceAccount: string;
  podName?: string;
  podUid?: string;
}

/**
 * Asks the API server whose service account `token` is, for `audience` (a TokenReview): its account and
 * the pod it is bound to if any, or an error saying why it vouches for none.
 */
export async function reviewServiceAccountToken(
  kube: Kube,
  token: string,
  audience: string,
): Promise<ServiceAccountToken | Error> {
  const reviewed = await reviewToken(kube, token, audience);
  if (reviewed instanceof Error) return reviewed;
  const user = SERVICE_ACCOUNT_USER.exec(reviewed.username);
  if (user === null)
    return new Error(`the token of ${JSON.stringify(reviewed.username)} is not a service account token`);
  const podName = reviewed.extra['authentication.kubernetes.io/pod-name']?.[0];
  const podUid = reviewed.extra['authentication.kubernetes.io/pod-uid']?.[0];
  return {
    namespace: user[1]!,
    serviceAccount: user[2]!,
    ...(podName === undefined ? {} : { podName }),
    ...(podUid === undefined ? {} : { podUid }),
  };
}

/** A pod's UID and labels, or undefined when there is no such pod. Needs `get` on `pods`. */
export async function readPodIdentity(
  kube: Kube,
  namespace: string,
  name: string,
): Promise<{ uid: string; labels: Record<string, string> } | undefined> {
  try {
    const pod = await kube.core.readNamespacedPod({ namespace, name });
    return { uid: pod.metadata?.uid ?? '', labels: pod.metadata?.labels ?? {} };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Who a token belongs to, as the API server vouches for it: what a SubjectAccessReview asks about. */
export interface TokenUser {
  username: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/**
 * Asks the API server whose `token` is, for `audience` (a TokenReview): the user, or an error saying why it
 * vouches for none. Needs `create` on `tokenreviews`.
 */
export async function reviewToken(kube: Kube, token: string, audience: string): Promise<TokenUser | Error> {
  const review = await kube.authentication.createTokenReview({
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, audiences: [audience] },
    },
  });
  const status = review.status;
  if (status?.authenticated !== true)
    return new Error(`the API server did not authenticate the token: ${status?.error ?? 'no reason given'}`);
  if (!(status.audiences ?? []).includes(audience))
    return new Error(`the token is not for the audience ${audience}`);
  const user = status.user;
  if (user?.username === undefined) return new Error('the API server authenticated the token as no user');
  return {
    username: user.username,
    ...(user.uid === undefined ? {} : { uid: user.uid }),
    groups: user.groups ?? [],
    extra: user.extra ?? {},
  };
}

/** What a user asks to do: a verb on a resource of a group in a namespace. */
export interface AccessRequest {
  verb: string;
  group: string;
  resource: string;
  namespace: string;
}

/**
 * Asks the API server whether `user` may do `access` (a SubjectAccessReview, so RBAC and any other
 * authorizer decide): undefined when allowed, else the refusal in a sentence. Needs `create` on
 * `subjectaccessreviews`.
 * https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/subject-access-review-v1/
 */
export async function reviewAccess(
  kube: Kube,
  user: TokenUser,
  access: AccessRequest,
): Promise<string | undefined> {
  const review = await kube.authorization.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.username,
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        groups: user.groups,
        extra: user.extra,
        resourceAttributes: {
          verb: access.verb,
          group: access.group,
          resource: access.resource,
          namespace: access.namespace,
        },
      },
    },
  });
  if (review.status?.allowed === true) return undefined;
  const why = review.status?.reason || review.status?.evaluationError || 'no rule allows it';
  return `${user.username} may not ${access.verb} ${access.resource}.${access.group} in namespace ${access.namespace} (${why})`;
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
