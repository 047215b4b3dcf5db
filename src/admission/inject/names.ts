/** Names of everything the webhook owns in a pod template; `cloudbase-` is reserved for them. */
export const Injected = {
  functionContainer: 'function',
  fetchContainer: 'cloudbase-fetch',
  installContainer: 'cloudbase-install',
  workspaceVolume: 'cloudbase-workspace',
  sourceVolume: 'cloudbase-source',
  tmpVolume: 'cloudbase-tmp',
  httpPort: 'http',
  adminPort: 'admin',
} as const;

/** Template annotation recording the runtime image the webhook chose, to tell it from one the user set. */
export const INJECTED_IMAGE_ANNOTATION = 'cloudbase.dev/injected-image';

/** Makes `kubectl logs` and `kubectl exec` pick the function container. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

export const INJECTED_INIT_CONTAINERS: readonly string[] = [
  Injected.fetchContainer,
  Injected.installContainer,
];
export const INJECTED_VOLUMES: readonly string[] = [
  Injected.workspaceVolume,
  Injected.sourceVolume,
  Injected.tmpVolume,
];
