/**
 * The two servers of `npm run bench:runtime`, each a child process of its own: the real runtime
 * (`dist/runtime/main.js serve`, configured by the env the webhook injects) and the bare node:http
 * baseline. Every child is tracked so that no exit path, an error or Ctrl-C included, leaves one running.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RuntimeEnv } from '../contract/runtime-env.js';

/** A started server: where it answers, and its process. */
export interface ServerChild {
  url: string;
  child: ChildProcess;
}

const children = new Set<ChildProcess>();
// `exit` handlers must be synchronous: whatever is still running at that point is killed outright.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Starts `cloudbase-runtime serve` for the hello function in `workspace`, on ephemeral ports. The runtime
 * announces its URL in its `function ready` log line; it listens on every interface (as in a pod) and is
 * called on 127.0.0.1 only.
 */
export async function startRuntimeChild(
  workspace: string,
  nodeArgs: readonly string[],
): Promise<ServerChild> {
  const main = fileURLToPath(new URL('../runtime/main.js', import.meta.url));
  const env = {
    PATH: process.env.PATH,
    [RuntimeEnv.functionName]: 'hello',
    [RuntimeEnv.namespace]: 'bench',
    [RuntimeEnv.runtime]: `nodejs${process.versions.node.split('.')[0]}`,
    [RuntimeEnv.handler]: 'index.js',
    [RuntimeEnv.signature]: 'fetch',
    [RuntimeEnv.workspace]: workspace,
    [RuntimeEnv.timeoutMs]: '30000',
    [RuntimeEnv.port]: '0',
    [RuntimeEnv.adminPort]: '0',
  };
  const child = track(
    spawn(process.execPath, [...nodeArgs, main, 'serve'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const port = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const entry = parseLogLine(line);
      // Warnings and errors reach the terminal; the info lines would only interleave with the results.
      if (typeof entry?.level === 'string' && ['warn', 'error', 'fatal'].includes(entry.level))
        process.stderr.write(`runtime: ${line}\n`);
      const ready = entry?.msg === 'function ready' ? /:(\d+)$/.exec(String(entry.url)) : null;
      if (ready) resolve(ready[1]!);
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`the runtime exited (${code ?? signal}) before it was ready`)),
    );
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Starts the bare node:http baseline; it reports its URL over IPC. */
export async function startBareChild(nodeArgs: readonly string[]): Promise<ServerChild> {
  const child = track(
    fork(new URL('./runtime-bare-server.js', import.meta.url), [], {
      execArgv: [...nodeArgs],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code, signal) => reject(new Error(`the bare server exited (${code ?? signal})`)));
  });
  return { url, child };
}

/** Asks every child still running to stop (SIGTERM: the runtime drains, profiles get written), then kills. */
export async function stopChildren(graceMs = 10_000): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * CPU seconds (user + system) a child has used so far, from Linux's /proc; undefined elsewhere. Read
 * around each measured window, it gives the server's own cost per request, which the requests/s ratio
 * hides when the load generator or other work on the machine is the bottleneck.
 */
export function cpuSecondsOf(child: ChildProcess): number | undefined {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15,
    // in clock ticks of 1/100 s (USER_HZ). https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
