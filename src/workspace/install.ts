/**
 * The install step: `npm ci --omit=dev` in the workspace when it has a lockfile, with HOME and the npm
 * cache under /tmp (the root filesystem is read-only). npm's output streams to the container log.
 */
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { PodLayout } from '../contract/runtime-env.js';
import { LOCKFILES } from '../contract/source-files.js';
import { BuildFailure } from './failure.js';

export const NPM_CI_ARGS = ['ci', '--omit=dev', '--no-audit', '--no-fund'] as const;

/** `ci` when one of the lockfiles exists, else `skip` (a function without dependencies needs nothing). */
export function planInstall(
  present: readonly string[],
): { action: 'ci'; lockfile: string } | { action: 'skip' } {
  const lockfile = LOCKFILES.find((f) => present.includes(f));
  return lockfile ? { action: 'ci', lockfile } : { action: 'skip' };
}

/** npm's environment: every file it writes (home, cache, logs) under the writable tmp directory. */
export function npmEnv(base: NodeJS.ProcessEnv, tmpDir: string = PodLayout.tmpDir): NodeJS.ProcessEnv {
  return {
    ...base,
    HOME: path.join(tmpDir, 'home'),
    npm_config_cache: path.join(tmpDir, 'npm-cache'),
    npm_config_logs_dir: path.join(tmpDir, 'npm-logs'),
    npm_config_update_notifier: 'false',
  };
}

/**
 * The one line that says why `npm ci` failed: npm's first error message (with its code), else the exit
 * status. npm 9 prefixes errors with `npm ERR!`, npm 10+ with `npm error`.
 */
export function summariseNpmFailure(stderr: string, exit: number | string): string {
  const lines = stderr
    .split('\n')
    .map((l) => /^npm (?:error|ERR!)\s?(.*)$/.exec(l.trim())?.[1]?.trim())
    .filter((l): l is string => l !== undefined && l !== '');
  const code = lines.find((l) => l.startsWith('code '))?.slice(5);
  const message = lines.find(
    (l) => !l.startsWith('code ') && !/^(A complete log|Log files were not written)/.test(l),
  );
  const status = typeof exit === 'number' ? `exit code ${exit}` : `signal ${exit}`;
  return `npm ci failed (${status}${code ? `, ${code}` : ''})${message ? `: ${message}` : ''}`;
}

export interface InstallOptions {
  npm?: string;
  env?: NodeJS.ProcessEnv;
  /** Where npm's output goes (the container log). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  log?: (line: string) => void;
}

/** Runs the step; resolves when it is done or skipped, throws `BuildFailure` with the summary line. */
export async function install(
  workspace: string,
  options: InstallOptions = {},
): Promise<'installed' | 'skipped'> {
  const present: string[] = [];
  for (const f of LOCKFILES) if (await exists(path.join(workspace, f))) present.push(f);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const plan = planInstall(present);
  if (plan.action === 'skip') {
    log(`cloudbase install: no package-lock.json or npm-shrinkwrap.json in ${workspace}; nothing to install`);
    return 'skipped';
  }
  log(`cloudbase install: npm ${NPM_CI_ARGS.join(' ')} in ${workspace} (${plan.lockfile})`);
  await runNpm(workspace, options);
  return 'installed';
}

function runNpm(workspace: string, options: InstallOptions): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  return new Promise((resolve, reject) => {
    const child = spawn(options.npm ?? 'npm', [...NPM_CI_ARGS], {
      cwd: workspace,
      env: npmEnv(options.env ?? process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Keep the tail of stderr for the summary; everything is forwarded to the log as it comes.
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-16_384);
    });
    child.on('error', (err) => reject(new BuildFailure(`cannot run npm: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new BuildFailure(`${summariseNpmFailure(tail, code ?? signal ?? 'unknown')} in ${workspace}`));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
