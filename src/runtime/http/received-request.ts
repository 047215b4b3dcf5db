/**
 * A request on the function port in the runtime's model (`IncomingRequest`). What costs something is made
 * on first use only, because most functions never look at it: the abort signal (and following the client
 * for it), and the pino child logger that carries the request id.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { IncomingRequest } from '../model.js';
import { RequestAbort } from './invoke.js';
import { EMPTY_BODY } from './request-body.js';
import { requestIdOf } from './request-id.js';

export class ReceivedRequest implements IncomingRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly requestId: string;
  /** Empty until the body has been read. */
  body: Buffer = EMPTY_BODY;
  /** Aborted by the timeout, or when the client goes away while someone follows the signal. */
  readonly abort: RequestAbort;
  private childLog: Logger | undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    private readonly baseLog: Logger,
  ) {
    this.method = req.method!;
    this.url = req.url!;
    this.headers = req.headers;
    this.requestId = requestIdOf(req.headers['x-request-id']);
    this.abort = new RequestAbort((abort) => abortWhenClientLeaves(res, abort));
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get log(): Logger {
    return (this.childLog ??= this.baseLog.child({ requestId: this.requestId }));
  }
}

/** The response closing before it was finished means the client went away. */
function abortWhenClientLeaves(res: ServerResponse, abort: RequestAbort): void {
  if (res.writableFinished) return;
  const gone = (): void => abort.abort(new Error('the client closed the connection'));
  if (res.destroyed) return gone();
  res.once('close', () => {
    if (!res.writableFinished) gone();
  });
}
