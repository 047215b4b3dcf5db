import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { install, npmEnv, planInstall, summariseNpmFailure } from './install.js';

describe('planInstall', () => {
  it.each([
    [['package.json'], { action: 'skip' }],
    [['package.json', 'package-lock.json'], { action: 'ci', lockfile: 'package-lock.json' }],
    [['npm-shrinkwrap.json', 'package-lock.json'], { action: 'ci', lockfile: 'npm-shrinkwrap.json' }],
  ])('for %j plans %j', (present, plan) => {
    expect(planInstall(present)).toEqual(plan);
  });
});

describe('npmEnv', () => {
  it('puts HOME, the cache and the logs under the tmp directory', () => {
    expect(npmEnv({ PATH: '/bin', HOME: '/' }, '/tmp')).toEqual({
      PATH: '/bin',
      HOME: '/tmp/home',
      npm_config_cache: '/tmp/npm-cache',
      npm_config_logs_dir: '/tmp/npm-logs',
      npm_config_update_notifier: 'false',
    });
  });
});

describe('summariseNpmFailure', () => {
  it.each([
    [
      'npm 10+',
      'npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/nope - Not found\nnpm error A complete log of this run can be found in: /tmp/x.log\n',
      1,
      'npm ci failed (exit code 1, E404): 404 Not Found - GET https://registry.npmjs.org/nope - Not found',
    ],
    [
      'npm 9',
      'npm ERR! code EUSAGE\nnpm ERR! \nnpm ERR! `npm ci` can only install packages when your package.json and package-lock.json are in sync.\n',
      1,
      'npm ci failed (exit code 1, EUSAGE): `npm ci` can only install packages when your package.json and package-lock.json are in sync.',
    ],
    ['a signal and no npm output', 'Killed\n', 'SIGKILL', 'npm ci failed (signal SIGKILL)'],
  ])('summarises %s', (_name, stderr, exit, line) => {
    expect(summariseNpmFailure(stderr, exit)).toBe(line);
  });
});

describe('install', () => {
  let workspace: string;
  let tmp: string;
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);
  // npm is pointed at a closed local port and kept offline: the tests never leave this machine.
  const offlineEnv = (): NodeJS.ProcessEnv => ({
    ...process.env,
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_offline: 'true',
    // `npm run -s` hands its children loglevel silent, which would hide the error lines this test reads.
    npm_config_loglevel: 'notice',
    TMPDIR: tmp,
  });
  const sink = (): PassThrough => new PassThrough().resume();

  beforeEach(async () => {
    workspace = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-install-'));
    tmp = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-npmtmp-'));
    lines.length = 0;
  });
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });

  it('skips and says so when there is no lockfile', async () => {
    await writeFile(path.join(workspace, 'package.json'), '{"name":"fn","version":"1.0.0"}');
    expect(await install(workspace, { log })).toBe('skipped');
    expect(lines).toEqual([
      `cloudbase install: no package-lock.json or npm-shrinkwrap.json in ${workspace}; nothing to install`,
    ]);
  });

  it('runs npm ci when there is a lockfile', async () => {
    await writeFile(path.join(workspace, 'package.json'), '{"name":"fn","version":"1.0.0"}');
    await writeFile(
      path.join(workspace, 'package-lock.json'),
      '{"name":"fn","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"fn","version":"1.0.0"}}}',
    );
    expect(await install(workspace, { log, env: offlineEnv(), stdout: sink(), stderr: sink() })).toBe(
      'installed',
    );
    expect(lines).toEqual([
      `cloudbase install: npm ci --omit=dev --no-audit --no-fund in ${workspace} (package-lock.json)`,
    ]);
  });

  it("fails with npm's reason in one line and streams npm's output", async () => {
    await writeFile(
      path.join(workspace, 'package.json'),
      '{"name":"fn","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}',
    );
    await writeFile(
      path.join(workspace, 'package-lock.json'),
      JSON.stringify({
        name: 'fn',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'fn', version: '1.0.0', dependencies: { 'left-pad': '1.3.0' } },
          'node_modules/left-pad': {
            version: '1.3.0',
            resolved: 'http://127.0.0.1:9/left-pad/-/left-pad-1.3.0.tgz',
          },
        },
      }),
    );
    const stderr = new PassThrough();
    let streamed = '';
    stderr.on('data', (chunk: Buffer) => (streamed += chunk.toString()));
    await expect(install(workspace, { log, env: offlineEnv(), stdout: sink(), stderr })).rejects.toThrow(
      new RegExp(`^npm ci failed \\(exit code 1, ENOTCACHED\\): .*left-pad.* in ${workspace}$`),
    );
    expect(streamed).toMatch(/npm (error|ERR!) code ENOTCACHED/);
  });

  it('says when npm cannot be started', async () => {
    await writeFile(path.join(workspace, 'package-lock.json'), '{}');
    await expect(install(workspace, { log, npm: '/nonexistent/npm' })).rejects.toThrow(
      'cannot run npm: spawn /nonexistent/npm ENOENT',
    );
  });
});
