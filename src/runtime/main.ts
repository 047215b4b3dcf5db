#!/usr/bin/env node
/** Entry point of the runtime image (`cloudbase-runtime`); all logic is in `cli.ts`. */
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), process.env, {
  stderr: (line) => process.stderr.write(`${line}\n`),
});
process.exit(code);
