import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { watchDirectory } from './directory-watch.js';

/** A serving certificate and its key, as PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';

/**
 * Reads `tls.crt`/`tls.key` from one directory and reports each new valid pair, as controller-runtime's
 * certwatcher does. It watches the directory (Kubernetes swaps a Secret volume's `..data` symlink, a rename in
 * the directory) and also polls, because file events are not delivered on every filesystem. A pair that does
 * not load (half written, key and certificate from different rotations) is skipped until the next change.
 */
export class CertificateWatcher {
  private current: KeyPair | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly onReload: (pair: KeyPair, result: 'loaded' | 'rejected') => void,
    private readonly pollIntervalMs = 10_000,
  ) {}

  /** Loads the pair once; throws an error naming the directory when it is missing or invalid. */
  loadInitial(): KeyPair {
    const pair = this.read();
    checkPair(pair, this.dir);
    this.current = pair;
    return pair;
  }

  /** Starts watching; `onReload` is called with each new valid pair. */
  start(): void {
    this.stopWatching = watchDirectory(
      this.dir,
      () => this.check(),
      this.pollIntervalMs,
      this.logger,
      'certificate directory',
    );
  }

  stop(): void {
    this.stopWatching?.();
  }

  private check(): void {
    let pair: KeyPair;
    try {
      pair = this.read();
    } catch (error) {
      this.logger.warn(
        { err: error, dir: this.dir },
        'cannot read serving certificate; keeping the current one',
      );
      return;
    }
    if (this.current !== undefined && pair.cert === this.current.cert && pair.key === this.current.key)
      return;
    try {
      checkPair(pair, this.dir);
    } catch (error) {
      this.logger.warn(
        { err: error, dir: this.dir },
        'new serving certificate does not load; keeping the current one',
      );
      this.onReload(pair, 'rejected');
      return;
    }
    this.current = pair;
    this.logger.info({ dir: this.dir }, 'serving certificate reloaded');
    this.onReload(pair, 'loaded');
  }

  private read(): KeyPair {
    return {
      cert: readFileSync(join(this.dir, CERT_FILE), 'utf8'),
      key: readFileSync(join(this.dir, KEY_FILE), 'utf8'),
    };
  }
}

function checkPair(pair: KeyPair, dir: string): void {
  try {
    createSecureContext(pair);
  } catch (error) {
    throw new Error(
      `${join(dir, CERT_FILE)} and ${join(dir, KEY_FILE)} do not form a usable key pair: ${(error as Error).message}`,
    );
  }
}
