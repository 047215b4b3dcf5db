#!/usr/bin/env node
import type { CommandIO } from './command.js';
import { main } from './run.js';

const io: CommandIO = { stdout: (line) => console.log(line), stderr: (line) => console.error(line) };
process.exitCode = await main(process.argv.slice(2), io);
