/** Test helpers: a request in the internal model, and loading a fixture function through the real loader. */
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Signature } from '../../contract/function-spec.js';
import { loadUserExport } from '../loader.js';
import type { FunctionHandler, FunctionInfo, IncomingRequest } from '../model.js';
import { ADAPTERS } from '../signatures/index.js';

/** This directory. */
export const TESTDATA = path.dirname(fileURLToPath(import.meta.url));

export const silentLogger = pino({ level: 'silent' });

export const testInfo: FunctionInfo = {
  name: 'hello',
  namespace: 'demo',
  runtime: 'nodejs22',
  timeoutMs: 30_000,
  memoryLimitBytes: 134217728,
};

/** A request with sensible defaults; a string or object body is encoded (objects as JSON). */
export function incoming(
  init: {
    method?: string;
    url?: string;
    headers?: IncomingHttpHeaders;
    body?: string | Buffer | object;
  } = {},
): IncomingRequest {
  const body =
    init.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(init.body)
        ? init.body
        : Buffer.from(typeof init.body === 'string' ? init.body : JSON.stringify(init.body));
  return {
    method: init.method ?? 'GET',
    url: init.url ?? '/',
    headers: { host: 'fn.example.com', ...init.headers },
    body,
    requestId: 'req-1',
    signal: new AbortController().signal,
    log: silentLogger,
  };
}

/** Loads `testdata/<file>[#export]` with the real loader and adapts it. */
export async function fixture(
  signature: Signature,
  file: string,
  exportName?: string,
  info: FunctionInfo = testInfo,
): Promise<FunctionHandler> {
  const loaded = await loadUserExport(TESTDATA, { modulePath: file, exportName }, signature);
  return ADAPTERS[signature](loaded.value, info);
}

/** The body of a response as text. */
export function text(body: Buffer | string): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}
