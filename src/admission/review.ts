import type { V1Deployment } from '@kubernetes/client-node';

// The admission.k8s.io/v1 wire types we use; see
// https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** An admission request whose `object` passed the webhook server's schema for a Deployment. */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  operation: Operation;
  namespace?: string;
  name?: string;
  object?: V1Deployment | null;
  oldObject?: V1Deployment | null;
  dryRun?: boolean;
}

export interface AdmissionStatus {
  code: number;
  message?: string;
  reason?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status: AdmissionStatus;
  patchType?: 'JSONPatch';
  /** Base64 of a JSON Patch (RFC 6902). */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReview<T = AdmissionRequest> {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: T;
  response?: AdmissionResponse;
}

/** Wraps a response in the AdmissionReview envelope the API server expects back. */
export function reviewOf(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** `namespace/name` for logs and messages; a CREATE with generateName has no name yet. */
export function objectRef(request: AdmissionRequest): string {
  const name = request.name ?? request.object?.metadata?.name ?? request.object?.metadata?.generateName ?? '';
  return `${request.namespace ?? ''}/${name}`;
}
