import type { AdmissionResponse } from './review.js';

/** What a webhook decided, for logs and metrics (a small, fixed set of label values). */
export type Decision = 'skipped' | 'unchanged' | 'patched' | 'allowed' | 'denied' | 'invalid' | 'error';

export interface AdmissionOutcome {
  response: AdmissionResponse;
  decision: Decision;
  /** The function's name when the object is a function, for logs. */
  functionName?: string;
}
