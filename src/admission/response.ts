import type { Operation as PatchOperation } from 'fast-json-patch';
import type { AdmissionResponse } from './review.js';

// The one builder of admission responses, after controller-runtime's pkg/webhook/admission/response.go:
// the uid is always echoed and a status code always set.

function withWarnings(response: AdmissionResponse, warnings: readonly string[]): AdmissionResponse {
  return warnings.length === 0 ? response : { ...response, warnings: [...warnings] };
}

/** Admit unchanged. */
export function allowed(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: true, status: { code: 200 } }, warnings);
}

/** Reject with a message the user sees in kubectl's output. */
export function denied(uid: string, message: string, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: false, status: { code: 403, reason: 'Forbidden', message } }, warnings);
}

/** Reject a request this webhook cannot handle (a kind it was not registered for). */
export function badRequest(uid: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code: 400, reason: 'BadRequest', message } };
}

/** Reject because the webhook itself failed; the message says so, the details go to the log. */
export function errored(uid: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code: 500, reason: 'InternalError', message } };
}

/** Admit with a JSON Patch; with no operations, no patch and no patchType at all. */
export function patched(
  uid: string,
  operations: readonly PatchOperation[],
  warnings: readonly string[] = [],
): AdmissionResponse {
  if (operations.length === 0) return allowed(uid, warnings);
  const patch = Buffer.from(JSON.stringify(operations)).toString('base64');
  return withWarnings({ uid, allowed: true, status: { code: 200 }, patchType: 'JSONPatch', patch }, warnings);
}
