/** A function pod as the API server returns it, for unit tests of what reads pods (scaling/pods.ts). */
import type { V1Pod } from '@kubernetes/client-node';

export interface FunctionPodFields {
  uid: string;
  namespace?: string;
  name?: string;
  /** Its IP; undefined for a pod that has none yet. */
  ip?: string;
  ready?: boolean;
  phase?: string;
  deleting?: boolean;
  httpPort?: number;
  adminPort?: number;
}

export function functionPodObject(fields: FunctionPodFields): V1Pod {
  const { uid, namespace = 'demo', ip, ready = false, phase = 'Running' } = fields;
  return {
    metadata: {
      uid,
      namespace,
      name: fields.name ?? `hello-${uid}`,
      labels: { 'cloudbase.dev/function': 'hello' },
      ...(fields.deleting === true ? { deletionTimestamp: new Date() } : {}),
    },
    spec: {
      containers: [
        {
          name: 'function',
          ports: [
            { name: 'http', containerPort: fields.httpPort ?? 8080 },
            { name: 'admin', containerPort: fields.adminPort ?? 9090 },
          ],
        },
      ],
    },
    status: {
      phase,
      ...(ip === undefined ? {} : { podIP: ip }),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}
