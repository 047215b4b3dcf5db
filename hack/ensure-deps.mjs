// `npm test` on a fresh clone: install the locked dependencies first, once.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

if (!existsSync('node_modules/.package-lock.json')) {
  console.log('node_modules missing: running npm ci');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
