/**
 * The message of anything thrown. Checks the shape rather than `instanceof Error`, which is false for errors
 * from another realm (Node's own errors seen from a vm context, as under jest).
 */
export function messageOf(error: unknown): string {
  if (
    typeof error === 'object' &&
    error !== null &&
    'message' in error &&
    typeof error.message === 'string'
  ) {
    return error.message;
  }
  return String(error);
}
