/**
 * `cloudbase-runtime <serve|fetch|install|build|await-ready|deps-key|layers|prepare|code>`: the runtime image's one
 * executable; the webhook runs `build` (fetch, then install) as the init container, `serve` as the function
 * container and `await-ready` as its postStart hook; an image build Job runs `prepare` (fetch, deps-key) and
 * `layers`, or only `code` (fetch, layers) when its dependencies need no install. Each step imports its own modules when it runs, so `serve` does not
 * pay for the build's (tar, npm) at every cold start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RuntimeStep } from '../contract/runtime-env.js';
import { failureLine, writeTerminationMessage } from '../workspace/failure.js';
import { BuildLayout, PodLayout, RuntimeEnv } from '../contract/runtime-env.js';

export const USAGE =
  'usage: cloudbase-runtime <serve|fetch|install|build|await-ready|deps-key|layers|prepare|code>   (configured by CLOUDBASE_* environment variables)';

export interface CliIO {
  stderr: (line: string) => void;
  terminationLog?: string;
}

type Step = Exclude<RuntimeStep, 'build' | 'prepare' | 'code'>;

const STEPS: Record<Step, (env: NodeJS.ProcessEnv) => Promise<number>> = {
  serve: async (env) => (await import('./serve.js')).serve(env),
  fetch: async (env) => (await (await import('../workspace/fetch.js')).fetchSource(env), 0),
  install: async (env) => (await (await import('../workspace/install.js')).install(workspaceOf(env)), 0),
  'deps-key': async (env) => {
    const { writeDependenciesKey } = await import('../workspace/layers.js');
    await writeDependenciesKey(workspaceOf(env), buildOutOf(env), env[RuntimeEnv.buildSalt] ?? '');
    return 0;
  },
  layers: async (env) => {
    const { buildLayers } = await import('../workspace/layers.js');
    await buildLayers(workspaceOf(env), buildOutOf(env));
    return 0;
  },
  // Never fails: a failed postStart hook would make the kubelet kill the container.
  'await-ready': async (env) => (await (await import('./await-ready.js')).awaitReady(env), 0),
};

/** `build` is `fetch` then `install`, so that one init container does both. */
const SEQUENCES: Record<RuntimeStep, readonly Step[]> = {
  serve: ['serve'],
  fetch: ['fetch'],
  install: ['install'],
  build: ['fetch', 'install'],
  'await-ready': ['await-ready'],
  'deps-key': ['deps-key'],
  layers: ['layers'],
  prepare: ['fetch', 'deps-key'],
  code: ['fetch', 'layers'],
};

const workspaceOf = (env: NodeJS.ProcessEnv): string =>
  env[RuntimeEnv.workspace]?.trim() || PodLayout.workspaceDir;
const buildOutOf = (env: NodeJS.ProcessEnv): string => env[RuntimeEnv.buildOut]?.trim() || BuildLayout.outDir;

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
  const done = env[RuntimeEnv.buildDone]?.trim();
  const end = (code: number, line = ''): number => {
    if (done) {
      try {
        mkdirSync(dirname(done), { recursive: true });
        writeFileSync(done, code === 0 ? '0\n' : `${code} ${line}\n`);
      } catch (err) {
        io.stderr(`cloudbase-runtime: cannot write ${done}: ${(err as Error).message}`);
      }
    }
    return code;
  };
  for (const each of SEQUENCES[step]) {
    try {
      const code = await STEPS[each](env);
      if (code !== 0) return end(code, `cloudbase ${each}: exit code ${code}`);
    } catch (err) {
      // Names the step that failed (`cloudbase fetch: ...`), also inside `build`.
      const line = failureLine(each, err);
      io.stderr(line);
      writeTerminationMessage(line, io.terminationLog);
      return end(1, line);
    }
  }
  return end(0);
}

function isStep(value: string | undefined): value is RuntimeStep {
  return value !== undefined && Object.hasOwn(SEQUENCES, value);
}
