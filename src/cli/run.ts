import { UsageError, type Command, type CommandIO } from './command.js';
import { certsCommand } from './commands/certs.js';
import { activatorCommand } from './commands/activator.js';
import { controllerCommand } from './commands/controller.js';
import { deadLettersCommand } from './commands/dead-letters.js';
import { ingestCommand } from './commands/ingest.js';
import { webhookCommand } from './commands/webhook.js';

const commands: readonly Command[] = [
  certsCommand,
  webhookCommand,
  controllerCommand,
  activatorCommand,
  ingestCommand,
  deadLettersCommand,
];

function help(): string {
  const lines = commands.map((command) => `  ${command.name.padEnd(13)} ${command.summary}`);
  return ['usage: cloudbase <command> [flags]', '', 'commands:', ...lines].join('\n');
}

/** Runs `cloudbase <command> ...argv`; resolves to the exit code. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr(`cloudbase: unknown command "${name}"\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
    ) {
      io.stderr(`cloudbase ${name}: ${(error as Error).message}\nusage: ${command.usage}`);
      return 2;
    }
    io.stderr(`cloudbase ${name}: ${(error as Error).message}`);
    return 1;
  }
}
