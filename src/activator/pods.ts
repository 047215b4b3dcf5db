/**
 * The activator's view of function pods: Kubernetes' readiness from the pod watch, and its own, sooner one.
 * While a function has requests waiting, each of its pods that has an IP but is not yet Ready is asked
 * `/readyz` every {@link PROBE_INTERVAL_MS}: a held request goes to a pod the moment it answers 200,
 * rather than after the kubelet's next probe, the EndpointSlice update and Traefik's next rebuild.
 * A pod's IP comes from its status, or sooner from its verified announcement (contract/announce.ts): then
 * `/readyz` must also answer the pod's UID before a request goes there.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { get } from 'node:http';
import { POD_UID_HEADER } from '../contract/announce.js';
import type { Logger } from 'pino';
import { functionKeyOf, functionPod, type FunctionPod } from '../scaling/pods.js';

export const PROBE_INTERVAL_MS = 25;
const PROBE_TIMEOUT_MS = 500;

type Waiter = (pod: FunctionPod) => void;

/** What an announcement of a pod the API server vouched for changed. */
export type AnnounceOutcome =
  /** Its address is new: the pod is probed while its function has requests waiting. */
  | 'taken'
  /** Its status had the same address already. */
  | 'known';

/** Asks a pod `/readyz`; with `uid`, the answer must name that pod UID too. */
export type ReadyProbe = (pod: FunctionPod, uid?: string) => Promise<boolean>;

export class PodDirectory {
  private readonly byFunction = new Map<string, Map<string, FunctionPod>>();
  /** Pods that answered /readyz 200 to us before Kubernetes called them Ready. */
  private readonly probedReady = new Set<string>();
  private readonly probing = new Set<string>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly turn = new Map<string, number>();
  /** Pods the watch shows without an IP yet, by UID: an announcement may give theirs. */
  private readonly withoutIp = new Map<string, FunctionPod>();
  /** Pods whose address came from their announcement, not (yet) from their status. */
  private readonly announced = new Set<string>();

  constructor(
    private readonly probe: ReadyProbe = probeReadyz,
    private readonly logger?: Logger,
  ) {}

  /** A pod added or changed (from the watch). */
  update(object: V1Pod): void {
    const pod = functionPod(object);
    if (pod === undefined) {
      const waiting = functionPod(object, true);
      if (waiting === undefined) return this.remove(object);
      // Until its status has an IP, an announced address stands.
      if (!this.announced.has(waiting.uid)) this.withoutIp.set(waiting.uid, waiting);
      return;
    }
    this.withoutIp.delete(pod.uid);
    if (this.announced.delete(pod.uid)) {
      const previous = this.byFunction.get(functionKeyOf(pod.namespace, pod.function))?.get(pod.uid);
      if (previous !== undefined && previous.ip !== pod.ip) {
        this.logger?.warn(
          { namespace: pod.namespace, pod: pod.name, announced: previous.ip, ip: pod.ip },
          'pod status gives another IP than its announcement; the status counts',
        );
        this.probedReady.delete(pod.uid);
      }
    }
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
    this.withoutIp.delete(uid);
    this.announced.delete(uid);
    for (const [key, pods] of this.byFunction) {
      if (pods.delete(uid) && pods.size === 0) this.byFunction.delete(key);
    }
  }

  /**
   * A pod announced itself at `ip`, and the API server vouched that the announcement came from pod `uid`
   * of `namespace`. Known from the watch without an IP, it gets that address; an error says why not.
   */
  announce(claim: { uid: string; namespace: string; ip: string }): AnnounceOutcome | Error {
    for (const pods of this.byFunction.values()) {
      const known = pods.get(claim.uid);
      if (known === undefined) continue;
      if (known.ip === claim.ip) return 'known';
      return new Error(`pod ${known.namespace}/${known.name} is at ${known.ip}, not at ${claim.ip}`);
    }
    const pod = this.withoutIp.get(claim.uid);
    if (pod === undefined)
      return new Error(
        `no function pod with UID ${claim.uid} is waiting for its IP in this activator's watch`,
      );
    if (pod.namespace !== claim.namespace)
      return new Error(`pod ${claim.uid} is in namespace ${pod.namespace}, not ${claim.namespace}`);
    this.withoutIp.delete(claim.uid);
    this.announced.add(claim.uid);
    const key = functionKeyOf(pod.namespace, pod.function);
    let pods = this.byFunction.get(key);
    if (pods === undefined) this.byFunction.set(key, (pods = new Map<string, FunctionPod>()));
    pods.set(pod.uid, { ...pod, ip: claim.ip, ready: false });
    if (this.waiters.has(key)) this.startProbing(key, pod.uid);
    return 'taken';
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
      const mustName = this.announced.has(uid) ? uid : undefined;
      if (await this.probe(pod, mustName).catch(() => false)) {
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
export function probeReadyz(pod: FunctionPod, uid?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(
      { host: pod.ip, port: pod.adminPort, path: '/readyz', timeout: PROBE_TIMEOUT_MS },
      (response) => {
        response.resume();
        resolve(
          response.statusCode === 200 && (uid === undefined || response.headers[POD_UID_HEADER] === uid),
        );
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
