import type { FunctionHandler, FunctionInfo } from '../model.js';

/**
 * Turns the user's export into a handler over the internal model. It throws a `HandlerLoadError` when the
 * export does not have the shape the signature calls (checked once, at load time).
 */
export type SignatureAdapter = (userExport: unknown, info: FunctionInfo) => FunctionHandler;

/** Any function; user code is untyped. */
export type UserFunction = (...args: unknown[]) => unknown;
