import type {
  V1Container,
  V1ContainerPort,
  V1EnvVar,
  V1PodSpec,
  V1Probe,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { formatHandler, type FunctionSpec } from '../../contract/function-spec.js';
import {
  PodLayout,
  RuntimeEnv,
  WEBHOOK_OWNED_ENV,
  configMapSourceValue,
} from '../../contract/runtime-env.js';
import { FUNCTION_RESOURCES, type InjectionConfig } from './config.js';
import { INJECTED_VOLUMES, Injected } from './names.js';
import { completeSecurityContext } from './security.js';
import { reconcileOwned } from './owned.js';
import type { SourceLayout } from './source-layout.js';
import { announceTokenMount, sourceMount, tmpMount, workspaceMount } from './volumes.js';

/**
 * Completes the `function` container in place. Cloudbase owns the `CLOUDBASE_*` variables and its volume
 * mounts and rewrites them on every admission; everything else the user set (image, command, ports, probes,
 * resources, security fields) is kept and only what is missing is filled in.
 */
export function completeFunctionContainer(
  container: V1Container,
  spec: FunctionSpec,
  layout: SourceLayout,
  podSpec: V1PodSpec,
  image: string | undefined,
  config: Pick<InjectionConfig, 'activatorUrl' | 'eventsUrl'>,
): void {
  // An event function is never routed, so never held by the activator: nothing to announce.
  const activatorUrl = spec.trigger === 'event' ? undefined : config.activatorUrl;
  if (image !== undefined) container.image = image;
  // The API server may send null for an unset field: `== null` covers both.
  if (container.command == null && container.args == null) {
    container.command = [PodLayout.runtimeCommand, 'serve'];
  }
  const httpPort = ensurePort(container, Injected.httpPort, PodLayout.httpPort);
  const adminPort = ensurePort(container, Injected.adminPort, PodLayout.adminPort);
  container.env = reconcileOwnedEnv(container.env, [
    ...functionEnv(spec, layout, httpPort, adminPort),
    ...announceEnv(activatorUrl),
    ...eventEnv(spec, config.eventsUrl),
  ]);
  container.volumeMounts = reconcileOwned(
    container.volumeMounts,
    [...functionMounts(layout), ...(activatorUrl === undefined ? [] : [announceTokenMount()])],
    INJECTED_VOLUMES,
  );
  reconcileReadyHook(container);
  container.readinessProbe ??= probe('/readyz', 1, 3);
  container.livenessProbe ??= probe('/livez', 10, 3);
  if (!hasResources(container)) container.resources = structuredClone(FUNCTION_RESOURCES);
  container.securityContext = completeSecurityContext(container.securityContext, podSpec.securityContext);
  // Defaulted to File by the API server, so only an absent value is ours to choose.
  container.terminationMessagePolicy ??= 'FallbackToLogsOnError';
}

/** The postStart hook that holds the kubelet until the runtime is ready (see src/runtime/await-ready.ts). */
const READY_HOOK_COMMAND = [PodLayout.runtimeCommand, 'await-ready'];

/**
 * Adds the ready hook when the container runs Cloudbase's runtime and has no postStart hook of the user's;
 * removes ours when the container no longer runs the runtime (its image may not have `cloudbase-runtime`).
 */
function reconcileReadyHook(container: V1Container): void {
  const runsRuntime =
    container.args == null &&
    JSON.stringify(container.command) === JSON.stringify([PodLayout.runtimeCommand, 'serve']);
  const hook = container.lifecycle?.postStart;
  const ours = JSON.stringify(hook?.exec?.command) === JSON.stringify(READY_HOOK_COMMAND);
  if (runsRuntime && hook == null) {
    container.lifecycle = {
      ...container.lifecycle,
      postStart: { exec: { command: [...READY_HOOK_COMMAND] } },
    };
  } else if (!runsRuntime && ours) {
    const rest = { ...container.lifecycle };
    delete rest.postStart;
    if (Object.keys(rest).length === 0) delete container.lifecycle;
    else container.lifecycle = rest;
  }
}

function functionEnv(
  spec: FunctionSpec,
  layout: SourceLayout,
  httpPort: number,
  adminPort: number,
): V1EnvVar[] {
  // A mounted ConfigMap is named to the runtime, which refuses to start if it has since gained files that
  // need the build step (rather than fail on a missing module).
  const mountedSource =
    layout === 'mounted' && spec.source.kind === 'configmap'
      ? [{ name: RuntimeEnv.source, value: configMapSourceValue(spec.source.configMapName) }]
      : [];
  return [
    { name: RuntimeEnv.functionName, value: spec.name },
    { name: RuntimeEnv.namespace, value: spec.namespace },
    { name: RuntimeEnv.runtime, value: spec.runtime },
    { name: RuntimeEnv.handler, value: formatHandler(spec.handler) },
    { name: RuntimeEnv.signature, value: spec.signature },
    { name: RuntimeEnv.port, value: String(httpPort) },
    { name: RuntimeEnv.adminPort, value: String(adminPort) },
    { name: RuntimeEnv.workspace, value: PodLayout.workspaceDir },
    ...mountedSource,
    ...(spec.timeoutMs === undefined ? [] : [{ name: RuntimeEnv.timeoutMs, value: String(spec.timeoutMs) }]),
  ];
}

/** How an event function's runtime reaches its events and handles them; nothing for an HTTP function. */
function eventEnv(spec: FunctionSpec, eventsUrl: string | undefined): V1EnvVar[] {
  if (spec.events === undefined) return [];
  return [
    { name: RuntimeEnv.trigger, value: 'event' },
    // Validation refuses an event function without a bus; an empty value makes the runtime say so too.
    { name: RuntimeEnv.eventsUrl, value: eventsUrl ?? '' },
    { name: RuntimeEnv.eventsMaxAttempts, value: String(spec.events.maxAttempts) },
    { name: RuntimeEnv.eventsBackoffMs, value: spec.events.backoffMs.join(',') },
    { name: RuntimeEnv.eventsConcurrency, value: String(spec.events.concurrency) },
  ];
}

/** Where to announce readiness, and what to announce: the pod's IP and UID from the downward API. */
function announceEnv(activatorUrl: string | undefined): V1EnvVar[] {
  if (activatorUrl === undefined) return [];
  return [
    { name: RuntimeEnv.activatorUrl, value: activatorUrl },
    { name: RuntimeEnv.podIp, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
    { name: RuntimeEnv.podUid, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } } },
  ];
}

function functionMounts(layout: SourceLayout): V1VolumeMount[] {
  // The runtime only reads the code: the workspace is mounted read-only. An image source brings its own code.
  switch (layout) {
    case 'image':
      return [tmpMount()];
    case 'build':
      return [workspaceMount(true), tmpMount()];
    case 'mounted':
      return [sourceMount(PodLayout.workspaceDir), tmpMount()];
  }
}

/** The container port named `name`, added with `defaultPort` when missing; returns its number. */
function ensurePort(container: V1Container, name: string, defaultPort: number): number {
  const existing = container.ports?.find((port) => port.name === name);
  if (existing !== undefined) return existing.containerPort;
  const port: V1ContainerPort = { name, containerPort: defaultPort, protocol: 'TCP' };
  container.ports = [...(container.ports ?? []), port];
  return defaultPort;
}

/** Sets every owned variable to its desired value in place, appends missing ones, drops stale owned ones. */
function reconcileOwnedEnv(current: V1EnvVar[] | undefined, desired: V1EnvVar[]): V1EnvVar[] {
  const wanted = new Map(desired.map((env) => [env.name, env]));
  const kept = (current ?? [])
    .filter((env) => !WEBHOOK_OWNED_ENV.has(env.name) || wanted.has(env.name))
    .map((env) => {
      const want = wanted.get(env.name);
      if (want === undefined) return env;
      wanted.delete(env.name);
      return env.value === want.value && env.valueFrom == null ? env : want;
    });
  return [...kept, ...wanted.values()];
}

function probe(path: string, periodSeconds: number, failureThreshold: number): V1Probe {
  return {
    httpGet: { path, port: Injected.adminPort, scheme: 'HTTP' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  };
}

function hasResources(container: V1Container): boolean {
  const { requests, limits } = container.resources ?? {};
  return Object.keys(requests ?? {}).length > 0 || Object.keys(limits ?? {}).length > 0;
}
