/**
 * `cloudbase-runtime await-ready`: the function container's postStart hook. It returns once the runtime's
 * /readyz answers 200 (or after `deadlineMs`, so a slow-loading function is left to its readiness probe).
 *
 * Why: the kubelet notices a started container at its next status relist (every second) and probes readiness
 * at once then; a runtime still loading at that instant is probed again only a period (1 s) later. The kubelet
 * finishes a pod's postStart hook before it syncs the pod again, so with this hook that first probe finds the
 * runtime ready. https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/
 *
 * Imports only node:http and the env contract, so that its own start costs the least. Always exits 0: a failed hook would
 * make the kubelet kill the container.
 */
import { get } from 'node:http';
import { PodLayout, RuntimeEnv } from '../contract/runtime-env.js';

const POLL_MS = 10;

export async function awaitReady(env: NodeJS.ProcessEnv, deadlineMs = 10_000): Promise<boolean> {
  const port = Number(env[RuntimeEnv.adminPort] ?? PodLayout.adminPort);
  const deadline = performance.now() + deadlineMs;
  while (performance.now() < deadline) {
    if (await readyzOk(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return false;
}

function readyzOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/readyz', timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
