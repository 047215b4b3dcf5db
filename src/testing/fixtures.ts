import type { V1Deployment } from '@kubernetes/client-node';
import type { AdmissionRequest, AdmissionReview, Operation } from '../admission/review.js';
import { defaultRuntimeImages, type InjectionConfig } from '../admission/inject/config.js';

/** Test-only builders of Deployments and admission requests. */

export const TEST_CONFIG: InjectionConfig = {
  runtimeImages: defaultRuntimeImages('registry.test/cloudbase', '1.0.0'),
};

/** The smallest Deployment a user writes: metadata, annotations and one container named `function`. */
export function minimalFunction(annotations: Record<string, string> = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'hello',
      namespace: 'demo',
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/source': 'configmap:hello-code',
        ...annotations,
      },
    },
    spec: { template: { spec: { containers: [{ name: 'function' }] } } },
  } as unknown as V1Deployment;
}

let counter = 0;

/**
 * A review request as the API server sends it. An UPDATE carries the stored object as `oldObject`: by
 * default the same object (an update that changes nothing), or the one given.
 */
export function admissionRequest(
  object: V1Deployment | null,
  operation: Operation = 'CREATE',
  oldObject: V1Deployment | null = operation === 'UPDATE' ? structuredClone(object) : null,
): AdmissionRequest {
  counter += 1;
  return {
    uid: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    operation,
    namespace: object?.metadata?.namespace ?? 'demo',
    name: object?.metadata?.name ?? 'hello',
    object,
    ...(oldObject === null ? {} : { oldObject }),
  };
}

export function admissionReview(request: AdmissionRequest): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

/** Decodes a response's base64 JSON Patch. */
export function decodePatch(patch: string | undefined): unknown[] {
  return patch === undefined ? [] : (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as unknown[]);
}
