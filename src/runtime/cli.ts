/**
 * `cloudbase-runtime <serve|fetch|install|build>`: the runtime image's one executable; the webhook runs `build`
 * (fetch, then install) as the init container and `serve` as the function container.
 */
import type { RuntimeStep } from '../contract/runtime-env.js';
import { fetchSource } from '../build/fetch.js';
import { failureLine, writeTerminationMessage } from '../build/failure.js';
import { install } from '../build/install.js';
import { RuntimeEnv } from '../contract/runtime-env.js';
import { serve } from './serve.js';

export const USAGE =
  'usage: cloudbase-runtime <serve|fetch|install|build>   (configured by CLOUDBASE_* environment variables)';

export interface CliIO {
  stderr: (line: string) => void;
  terminationLog?: string;
}

type Step = Exclude<RuntimeStep, 'build'>;

const STEPS: Record<Step, (env: NodeJS.ProcessEnv) => Promise<number>> = {
  serve,
  fetch: async (env) => (await fetchSource(env), 0),
  install: async (env) => (await install(env[RuntimeEnv.workspace]?.trim() || '/workspace'), 0),
};

/** `build` is `fetch` then `install`, so that one init container does both. */
const SEQUENCES: Record<RuntimeStep, readonly Step[]> = {
  serve: ['serve'],
  fetch: ['fetch'],
  install: ['install'],
  build: ['fetch', 'install'],
};

/** Runs one step and resolves with the process exit code: 0 done, 1 failed (one line on stderr), 2 usage. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIO): Promise<number> {
  const step = argv[0];
  if (argv.length !== 1 || !isStep(step)) {
    io.stderr(
      argv.length === 0
        ? USAGE
        : `cloudbase-runtime: unknown arguments ${JSON.stringify(argv.join(' '))}; ${USAGE}`,
    );
    return 2;
  }
  for (const each of SEQUENCES[step]) {
    try {
      const code = await STEPS[each](env);
      if (code !== 0) return code;
    } catch (err) {
      // Names the step that failed (`cloudbase fetch: ...`), also inside `build`.
      const line = failureLine(each, err);
      io.stderr(line);
      writeTerminationMessage(line, io.terminationLog);
      return 1;
    }
  }
  return 0;
}

function isStep(value: string | undefined): value is RuntimeStep {
  return value !== undefined && Object.hasOwn(SEQUENCES, value);
}
