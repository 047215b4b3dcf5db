/**
 * Cloudbase installed on the local cluster as a user installs it (hack/install.sh: `kubectl apply -k` of
 * manifests/overlays/local with this machine's images) and removed again (hack/uninstall.sh), for the e2e
 * files that test the install itself.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = new URL('../..', import.meta.url).pathname;
const SCRIPT_TIMEOUT_MS = 300_000;

/** Installs Cloudbase, or brings an install up to date; `env` adds install.sh's settings (CLOUDBASE_INSTALL_*). */
export async function installCloudbase(env: Record<string, string> = {}): Promise<void> {
  await run('bash', ['hack/install.sh'], {
    cwd: REPO,
    env: { ...process.env, ...env },
    timeout: SCRIPT_TIMEOUT_MS,
  });
}

/** Removes Cloudbase and waits until it is gone; the functions stay, as they do for a user. */
export async function uninstallCloudbase(): Promise<void> {
  await run('bash', ['hack/uninstall.sh'], { cwd: REPO, timeout: SCRIPT_TIMEOUT_MS });
}

/** A fresh install: whatever an earlier test file left installed is removed first. */
export async function reinstallCloudbase(env: Record<string, string> = {}): Promise<void> {
  await uninstallCloudbase();
  await installCloudbase(env);
}
