// `npm run bench:runtime`: the function runtime against a bare node:http server answering the same hello,
// each in its own process, driven in turn (never together) with the same keep-alive load. The last stdout
// line is one JSON object: {"runtime":{"rps","p99_ms",...},"bare":{...},"ratio_rps"}; on Linux each side
// also has server_cpu_us_per_request, its server's own CPU time per answer.
// Flags: --seconds S (measured per server, split over the rounds), --concurrency N, --rounds R,
// --warmup-seconds W, --profile DIR (both servers run with --cpu-prof into DIR).
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cpuSecondsOf,
  startBareChild,
  startRuntimeChild,
  stopChildren,
  type ServerChild,
} from './runtime-children.js';
import { writeHelloWorkspace } from './runtime-hello.js';
import { mergeRounds, type LoadRound } from './load.js';
import { driveHttpLoad } from './runtime-load.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '5' },
    'warmup-seconds': { type: 'string', default: '3' },
    profile: { type: 'string' },
  },
});
const concurrency = positive('concurrency', values.concurrency);
const rounds = positive('rounds', values.rounds);
const windowMs = (positive('seconds', values.seconds) * 1000) / rounds;
const warmupMs = Number(values['warmup-seconds']) * 1000;
const nodeArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [];

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`--${flag} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

const workspace = await writeHelloWorkspace();
/** Stops both servers and removes the workspace; runs on every way out (the `exit` hook in runtime-children kills what remains). */
const cleanUp = async (graceMs?: number): Promise<void> => {
  await stopChildren(graceMs);
  await rm(workspace, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp(2000).finally(() => process.exit(130)));
}

try {
  const runtime = await startRuntimeChild(workspace, nodeArgs);
  const bare = await startBareChild(nodeArgs);
  const drive = async (server: ServerChild, durationMs: number): Promise<LoadRound> => {
    const cpuBefore = cpuSecondsOf(server.child);
    const round = await driveHttpLoad({ url: `${server.url}/`, concurrency, durationMs });
    const cpuAfter = cpuSecondsOf(server.child);
    if (cpuBefore !== undefined && cpuAfter !== undefined) round.serverCpuSeconds = cpuAfter - cpuBefore;
    return round;
  };
  // Warm-up (JIT, connection set-up) is not counted; then alternate so drift affects both alike.
  if (warmupMs > 0) {
    await drive(runtime, warmupMs);
    await drive(bare, warmupMs);
  }
  const measured = { runtime: [] as LoadRound[], bare: [] as LoadRound[] };
  for (let i = 0; i < rounds; i++) {
    measured.runtime.push(await drive(runtime, windowMs));
    measured.bare.push(await drive(bare, windowMs));
  }
  const runtimeResult = mergeRounds(measured.runtime);
  const bareResult = mergeRounds(measured.bare);
  if (runtimeResult.errors + bareResult.errors > 0)
    console.error(`errors: runtime ${runtimeResult.errors}, bare ${bareResult.errors}`);
  console.log(
    JSON.stringify({
      concurrency,
      seconds: (windowMs * rounds) / 1000,
      rounds,
      runtime: runtimeResult,
      bare: bareResult,
      ratio_rps: Math.round((runtimeResult.rps / bareResult.rps) * 1000) / 1000,
    }),
  );
} finally {
  await cleanUp();
}
