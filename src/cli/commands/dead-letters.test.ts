import { describe, expect, it } from '@jest/globals';
import { main } from '../run.js';

/** Runs `cloudbase dead-letters ...args`; every case here is refused before any connection is made. */
async function run(...args: string[]): Promise<{ code: number; stderr: string }> {
  const stderr: string[] = [];
  const code = await main(['dead-letters', ...args], {
    stdout: () => undefined,
    stderr: (line) => stderr.push(line),
  });
  return { code, stderr: stderr.join('\n') };
}

const BUS = ['--events-url', 'nats://127.0.0.1:1'];

describe('cloudbase dead-letters', () => {
  it.each([
    [[], 'expected "list" or "replay", not ""'],
    [['purge', ...BUS], 'expected "list" or "replay", not "purge"'],
    [['list', 'extra', ...BUS, '--namespace', 'a'], 'unexpected "extra"'],
    [['list', '--namespace', 'a'], '--events-url is required'],
    [['list', '--events-url', 'http://bus:4222', '--namespace', 'a'], 'is not a NATS server URL'],
    [['list', ...BUS], '--namespace is required'],
    [['list', ...BUS, '--namespace', 'Shop'], '--namespace "Shop": expected a DNS label'],
    [['list', ...BUS, '--namespace', 'a', '--seq', '1'], '--seq and --all go with replay'],
    [
      ['list', ...BUS, '--namespace', 'a', '--limit', '0'],
      '--limit "0": expected an integer from 1 to 10000',
    ],
    [['replay', ...BUS, '--namespace', 'a', '--all'], '--function is required'],
    [['replay', ...BUS, '--namespace', 'a', '--function', 'f'], 'replay needs --seq N[,N...] or --all'],
    [['replay', ...BUS, '--namespace', 'a', '--function', 'f', '--seq', '1', '--all'], 'give one of them'],
    [
      ['replay', ...BUS, '--namespace', 'a', '--function', 'f', '--seq', '1,x'],
      '--seq "x": expected an integer',
    ],
  ])('refuses %j, saying %s, with the usage', async (args, message) => {
    const { code, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('usage: cloudbase dead-letters list');
  });
});
