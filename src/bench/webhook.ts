// `npm run bench:webhook`: drives /mutate over TLS at fixed concurrency with a realistic Deployment, and a
// no-op route on the same server beside it; prints one JSON line. Flags: --concurrency N --seconds S.
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCertificateAuthority, issueServingCertificate } from '../certs/authority.js';
import { writeCertificateFiles } from '../certs/files.js';
import { driveLoad, type LoadResult } from './load.js';
import { realisticReview } from './review.js';

const { values } = parseArgs({
  options: { concurrency: { type: 'string', default: '4' }, seconds: { type: 'string', default: '10' } },
});
const concurrency = Number(values.concurrency);
const durationMs = Number(values.seconds) * 1000;

const certDir = await mkdtemp(join(tmpdir(), 'cloudbase-bench-'));
const ca = generateCertificateAuthority({ validityDays: 1 });
const leaf = issueServingCertificate(ca, {
  service: 'cloudbase-webhook',
  namespace: 'cloudbase-system',
  ips: ['127.0.0.1'],
  validityDays: 1,
});
await writeCertificateFiles(certDir, { caCertPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem });

const child = fork(new URL('./webhook-server.js', import.meta.url), [certDir], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const url = await new Promise<string>((resolve, reject) => {
  child.once('message', (message) => resolve((message as { url: string }).url));
  child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
});

const body = JSON.stringify(realisticReview());
const run = (path: string, ms: number): Promise<LoadResult> =>
  driveLoad({ url, path, body, ca: ca.certPem, concurrency, durationMs: ms });
try {
  // Warm up both routes (JIT, TLS sessions) before measuring.
  await run('/mutate', 2000);
  await run('/noop', 2000);
  const mutate = await run('/mutate', durationMs);
  const noop = await run('/noop', durationMs);
  if (mutate.errors + noop.errors > 0) console.error(`errors: mutate ${mutate.errors}, noop ${noop.errors}`);
  const summary = {
    concurrency,
    mutate: { rps: mutate.rps, p50_ms: mutate.p50_ms, p99_ms: mutate.p99_ms },
    noop: { rps: noop.rps, p50_ms: noop.p50_ms, p99_ms: noop.p99_ms },
    ratio_p99: Math.round((mutate.p99_ms / noop.p99_ms) * 100) / 100,
  };
  console.log(JSON.stringify(summary));
} finally {
  child.disconnect();
  await rm(certDir, { recursive: true, force: true });
}
