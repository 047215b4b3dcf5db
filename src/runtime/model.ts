/**
 * The runtime's internal request/response model. Signature adapters translate between it and the
 * conventions of each platform, so they are tested without an HTTP server.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';

/** One HTTP request as the function server received it, with the raw body already read. */
export interface IncomingRequest {
  method: string;
  /** Path and query string exactly as received, e.g. `/items/1?x=2`. */
  url: string;
  /** Lower-cased header names (Node's `IncomingHttpHeaders`). */
  headers: IncomingHttpHeaders;
  /** The raw body; empty when the request had none. */
  body: Buffer;
  /** `x-request-id` of the request, or a generated one. */
  requestId: string;
  /** Aborted when the per-request timeout fires or the client goes away. */
  signal: AbortSignal;
  /** Logger bound to this request (carries the request id). */
  log: Logger;
}

/** Header values a response may carry (arrays for repeated headers such as `set-cookie`). */
export type ResponseHeaders = Record<string, string | string[]>;

/** What a signature adapter answers; the HTTP layer writes it unchanged. */
export interface OutgoingResponse {
  status: number;
  headers: ResponseHeaders;
  /** Empty for responses without a body (204, 304, HEAD). */
  body: Buffer | string;
}

/** Facts about the deployed function that some signatures expose to user code. */
export interface FunctionInfo {
  name: string;
  namespace: string;
  /** e.g. `nodejs22`. */
  runtime: string;
  timeoutMs: number;
  /** The container's memory limit in bytes, when the cgroup has one. */
  memoryLimitBytes: number | undefined;
}

/** A loaded function, adapted to the internal model. A rejection means "the function failed" (500). */
export type FunctionHandler = (req: IncomingRequest) => Promise<OutgoingResponse>;

/** An error whose status and message may go to the client (4xx only), e.g. a malformed JSON body. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}
