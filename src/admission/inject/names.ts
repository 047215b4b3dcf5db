import { PortName } from '../../contract/ports.js';

/** Names of everything the webhook owns in a pod template; `cloudbase-` is reserved for them. */
export const Injected = {
  functionContainer: 'function',
  buildContainer: 'cloudbase-build',
  workspaceVolume: 'cloudbase-workspace',
  sourceVolume: 'cloudbase-source',
  tmpVolume: 'cloudbase-tmp',
  announceTokenVolume: 'cloudbase-activator-token',
  httpPort: PortName.http,
  adminPort: PortName.admin,
} as const;

/** Template annotation recording the runtime image the webhook chose, to tell it from one the user set. */
export const INJECTED_IMAGE_ANNOTATION = 'cloudbase.dev/injected-image';

/** Makes `kubectl logs` and `kubectl exec` pick the function container. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/**
 * Init containers the webhook owns: today's, and the two that earlier versions injected (cloudbase-fetch,
 * cloudbase-install), so re-admitting an old template replaces them with today's one.
 */
export const INJECTED_INIT_CONTAINERS: readonly string[] = [
  Injected.buildContainer,
  'cloudbase-fetch',
  'cloudbase-install',
];
export const INJECTED_VOLUMES: readonly string[] = [
  Injected.workspaceVolume,
  Injected.sourceVolume,
  Injected.tmpVolume,
  Injected.announceTokenVolume,
];
