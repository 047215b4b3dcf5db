import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * JSON logs on stdout, one object per line, with an ISO time and the level as a word, so that cluster log
 * tooling can parse them. `bindings` (function, namespace) go on every line.
 */
export function createLogger(level: LogLevel, bindings: Record<string, string> = {}): Logger {
  return pino({
    level,
    base: bindings,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
