import type { V1Service } from '@kubernetes/client-node';
import { Label } from '../../contract/annotations.js';
import type { FunctionSpec } from '../../contract/function-spec.js';
import { PortName } from '../../contract/ports.js';
import { childMetadata, type FunctionOwner } from './owner.js';

/** Port of the function's Service; Traefik sends to it, and it forwards to the pods' `http` port. */
export const SERVICE_PORT = 80;

/** The ClusterIP Service in front of a function's pods. */
export function desiredService(spec: FunctionSpec, owner: FunctionOwner): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(spec.name, spec, owner),
    spec: {
      type: 'ClusterIP',
      selector: { [Label.function]: spec.name },
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: PortName.http, protocol: 'TCP' }],
    },
  };
}
