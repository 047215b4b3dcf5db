/** Where a command writes; injected so tests can capture output. */
export interface CommandIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** One `cloudbase <name>` subcommand. `run` resolves to the process exit code; it never calls process.exit. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: CommandIO): Promise<number>;
}

/** A flag the user got wrong: the CLI prints the message and the usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A whole number flag within bounds; anything else is a UsageError naming the flag and the range. */
export function integerFlag(name: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`);
  }
  return parsed;
}

/**
 * `--events-url`: NATS server URLs, comma-separated, as the NATS clients take them; anything else is a
 * UsageError naming the wrong one. https://docs.nats.io/running-a-nats-service/clients#nats-url
 */
export function eventsUrlFlag(url: string): string {
  const servers = url.split(',').map((server) => server.trim());
  for (const server of servers) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(server);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !['nats:', 'tls:'].includes(parsed.protocol) || parsed.hostname === '')
      throw new UsageError(
        `--events-url ${JSON.stringify(url)}: ${JSON.stringify(server)} is not a NATS server URL (nats://HOST:PORT or tls://HOST:PORT, comma-separated)`,
      );
  }
  return servers.join(',');
}

/** Resolves with the first SIGTERM or SIGINT: when a long-running command should shut down. */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}
