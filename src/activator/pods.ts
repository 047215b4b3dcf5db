/**
 * The activator's view of function pods: Kubernetes' readiness from the pod watch, and its own, sooner one.
 * While a function has requests waiting, each of its pods that has an IP but is not yet Ready is asked
 * `/readyz` every {@link PROBE_INTERVAL_MS}: a held request goes to a pod the moment it answers 200,
 * rather than after the kubelet's next probe, the EndpointSlice update and Traefik's next rebuild.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { get } from 'node:http';
import type { Logger } from 'pino';
import { functionKeyOf, functionPod, type FunctionPod } from '../scaling/pods.js';

export const PROBE_INTERVAL_MS = 25;
const PROBE_TIMEOUT_MS = 500;

type Waiter = (pod: FunctionPod) => void;

export class PodDirectory {
  private readonly byFunction = new Map<string, Map<string, FunctionPod>>();
  /** Pods that answered /readyz 200 to us before Kubernetes called them Ready. */
  private readonly probedReady = new Set<string>();
  private readonly probing = new Set<string>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly turn = new Map<string, number>();

  constructor(
    private readonly probe: (pod: FunctionPod) => Promise<boolean> = probeReadyz,
    private readonly logger?: Logger,
  ) {}

  /** A pod added or changed (from the watch). */
  update(object: V1Pod): void {
    const pod = functionPod(object);
    if (pod === undefined) return this.remove(object);
    const key = functionKeyOf(pod.namespace, pod.function);
    let pods = this.byFunction.get(key);
    if (pods === undefined) this.byFunction.set(key, (pods = new Map<string, FunctionPod>()));
    pods.set(pod.uid, pod);
    if (this.waiters.has(key))
      this.logger?.debug(
        { namespace: pod.namespace, pod: pod.name, ip: pod.ip, ready: pod.ready },
        'pod seen while requests wait',
      );
    if (this.isReady(pod)) this.release(key, pod);
    else if (this.waiters.has(key)) this.startProbing(key, pod.uid);
  }

  /** A pod deleted, or one that can no longer serve. */
  remove(object: V1Pod): void {
    const uid = object.metadata?.uid ?? '';
    this.probedReady.delete(uid);
    for (const [key, pods] of this.byFunction) {
      if (pods.delete(uid) && pods.size === 0) this.byFunction.delete(key);
    }
  }

  /** A ready pod of the function, in turn; undefined when none is. */
  pick(key: string): FunctionPod | undefined {
    const ready = [...(this.byFunction.get(key)?.values() ?? [])].filter((pod) => this.isReady(pod));
    if (ready.length === 0) return undefined;
    const next = (this.turn.get(key) ?? 0) % ready.length;
    this.turn.set(key, next + 1);
    return ready[next];
  }

  /** Waits for a ready pod of the function; resolves undefined after `timeoutMs` or once `signal` aborts. */
  wait(key: string, timeoutMs: number, signal: AbortSignal): Promise<FunctionPod | undefined> {
    const now = this.pick(key);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      let waiters = this.waiters.get(key);
      if (waiters === undefined) this.waiters.set(key, (waiters = new Set()));
      const done = (pod: FunctionPod | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        const left = this.waiters.get(key);
        left?.delete(waiter);
        if (left?.size === 0) this.waiters.delete(key);
        resolve(pod);
      };
      const waiter: Waiter = (pod) => done(pod);
      const aborted = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      signal.addEventListener('abort', aborted);
      waiters.add(waiter);
      for (const uid of this.byFunction.get(key)?.keys() ?? []) this.startProbing(key, uid);
    });
  }

  /** Forgets that a pod answered ready (it refused a connection): Kubernetes' word counts again. */
  distrust(pod: FunctionPod): void {
    this.probedReady.delete(pod.uid);
  }

  private isReady(pod: FunctionPod): boolean {
    return pod.ready || this.probedReady.has(pod.uid);
  }

  /** Hands every waiter of the function a ready pod, spread over the ready ones. */
  private release(key: string, first: FunctionPod): void {
    const waiters = this.waiters.get(key);
    if (waiters === undefined) return;
    this.logger?.debug(
      { namespace: first.namespace, pod: first.name, waiting: waiters.size },
      'held requests released',
    );
    for (const waiter of [...waiters]) waiter(this.pick(key) ?? first);
  }

  private startProbing(key: string, uid: string): void {
    if (this.probing.has(uid)) return;
    this.probing.add(uid);
    const round = async (): Promise<void> => {
      const pod = this.byFunction.get(key)?.get(uid);
      if (pod === undefined || !this.waiters.has(key) || this.isReady(pod)) {
        this.probing.delete(uid);
        return;
      }
      if (await this.probe(pod).catch(() => false)) {
        this.probing.delete(uid);
        // Still ours and still not Ready by Kubernetes' word: trust the answer we just had.
        if (this.byFunction.get(key)?.get(uid) === undefined) return;
        this.probedReady.add(uid);
        this.release(key, pod);
        return;
      }
      setTimeout(() => void round(), PROBE_INTERVAL_MS).unref();
    };
    void round();
  }
}

/** GET /readyz on the pod's admin port: the same answer the kubelet's readiness probe gets. */
export function probeReadyz(pod: FunctionPod): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(
      { host: pod.ip, port: pod.adminPort, path: '/readyz', timeout: PROBE_TIMEOUT_MS },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
