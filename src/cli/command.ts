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
