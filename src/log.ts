import { pino, type Logger } from 'pino';

/**
 * The process logger: pino JSON on stdout, level from LOG_LEVEL (default info). Writes are asynchronous
 * (pino's SonicBoom), so a log line does not block an admission answer; pino flushes what is left on exit.
 * https://getpino.io/#/docs/asynchronous
 */
export function createLogger(name: string, level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name, level, base: { component: name } }, pino.destination({ dest: 1, sync: false }));
}
