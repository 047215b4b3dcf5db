// The function both servers of `npm run bench:runtime` answer with: a fetch-signature hello, written to a
// temporary workspace as a user would write it, and the exact answer the runtime sends for it.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HELLO_BODY = 'hello, world';
/** What the runtime sets for a string result (`src/runtime/signatures/fetch.ts`). */
export const HELLO_CONTENT_TYPE = 'text/plain; charset=utf-8';

/** Creates a workspace holding `index.js` (an ES module whose default export answers `HELLO_BODY`). */
export async function writeHelloWorkspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudbase-bench-runtime-'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(
    join(dir, 'index.js'),
    `export default async function handler(request) {\n  return ${JSON.stringify(HELLO_BODY)};\n}\n`,
  );
  return dir;
}
