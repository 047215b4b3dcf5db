/**
 * A real NATS server with JetStream on this machine, for the tests of what talks to the event bus without
 * needing pods: the binary the cluster scripts built from its module (`NATS_SERVER` in `.cluster/env`),
 * on a free loopback port, its store in a temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface LocalNatsServer {
  url: string;
  /** Its output so far, for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

const ENV_FILE = new URL('../../.cluster/env', import.meta.url);

function natsServerBinary(): string {
  const line = readFileSync(ENV_FILE, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('NATS_SERVER='));
  if (line === undefined)
    throw new Error(".cluster/env names no NATS_SERVER: run 'npm run cluster:up', which builds it");
  return line.slice('NATS_SERVER='.length).trim();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/**
 * Starts the server and resolves once it accepts clients. `config`, when given, is the text of a config
 * file (accounts, authorization) to which the listen address and the store are added.
 */
export async function startNatsServer(config?: string): Promise<LocalNatsServer> {
  const store = mkdtempSync(path.join(tmpdir(), 'cloudbase-nats-'));
  const port = await freePort();
  let args = ['--jetstream', '--store_dir', store, '--addr', '127.0.0.1', '--port', String(port)];
  if (config !== undefined) {
    const file = path.join(store, 'nats.conf');
    writeFileSync(file, config);
    args = ['--config', file, ...args];
  }
  const child: ChildProcess = spawn(natsServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!output.includes('Server is ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(store, { recursive: true, force: true });
    },
  };
}
