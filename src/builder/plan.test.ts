import { describe, expect, it } from '@jest/globals';
import { dependenciesKey } from '../contract/build.js';
import { planBuild } from './plan.js';

const REPO = 'r.example.com/functions/demo/hello';
const FILES = { 'index.js': '1', 'package.json': '{"name":"f"}', 'package-lock.json': '{"v":3}' };
const KEY = dependenciesKey(
  FILES['package.json'],
  { name: 'package-lock.json', content: FILES['package-lock.json'] },
  'salt',
);

describe('planBuild', () => {
  it('builds only the code of a ConfigMap without a lockfile, onto the base', () => {
    expect(planBuild({ 'index.js': '1', 'package.json': '{}' }, 'salt', undefined, REPO)).toEqual({
      plan: { kind: 'code' },
    });
  });

  it('may install when the dependencies changed, or were never built', () => {
    expect(planBuild(FILES, 'salt', undefined, REPO)).toEqual({ plan: { kind: 'install' }, depsKey: KEY });
    expect(planBuild(FILES, 'salt', 'e'.repeat(64), REPO)).toEqual({
      plan: { kind: 'install' },
      depsKey: KEY,
    });
  });

  it('builds only the code onto the dependencies of the image it runs when their key is unchanged', () => {
    expect(planBuild({ ...FILES, 'index.js': '2' }, 'salt', KEY, REPO)).toEqual({
      plan: { kind: 'code', depsImage: `${REPO}:deps-${KEY}` },
      depsKey: KEY,
    });
  });

  it('does not take dependencies built on another base for these', () => {
    expect(planBuild(FILES, 'other salt', KEY, REPO).plan).toEqual({ kind: 'install' });
  });

  it('may install for a source whose files it cannot see (a tarball)', () => {
    expect(planBuild(undefined, 'salt', KEY, REPO)).toEqual({ plan: { kind: 'install' } });
  });
});
