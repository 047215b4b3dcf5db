import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { ActivatorEndpoint } from '../../contract/activator.js';
import { Label, MANAGED_BY } from '../../contract/annotations.js';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { childMetadata, type FunctionOwner } from './owner.js';

/**
 * Marks the EndpointSlices Cloudbase manages, so Kubernetes' EndpointSlice controller (which manages those
 * labelled `endpointslice-controller.k8s.io`) leaves them alone.
 * https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#management
 */
export const SLICE_MANAGER = 'controller.cloudbase.dev';
export const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type { ActivatorEndpoint } from '../../contract/activator.js';

export function activatorSliceName(spec: FunctionSpec): string {
  return `${spec.name}-activator`;
}

/**
 * The function Service's second EndpointSlice, listing the activator pods: while a function is at zero
 * (and just before), Traefik and kube-proxy send its requests there, and nothing in its IngressRoute
 * changes. The port is named as the Service's (`http`), which is how both match a slice to a Service port.
 */
export function desiredActivatorSlice(
  spec: FunctionSpec,
  owner: FunctionOwner,
  endpoints: readonly ActivatorEndpoint[],
): V1EndpointSlice {
  const metadata = childMetadata(activatorSliceName(spec), spec, owner);
  metadata.labels = {
    ...metadata.labels,
    [SERVICE_NAME_LABEL]: spec.name,
    [SLICE_MANAGED_BY_LABEL]: SLICE_MANAGER,
    [Label.managedBy]: MANAGED_BY,
  };
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata,
    addressType: 'IPv4',
    ports: [{ name: 'http', port: endpoints[0]?.httpPort ?? 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: true, serving: true, terminating: false },
    })),
  };
}
