/**
 * The autoscaler's decision, in the manner of Knative's KPA
 * (https://knative.dev/docs/serving/autoscaling/kpa-specific/): from the function's scaling contract, the
 * concurrency observed over the last stable window, its current replicas and the time, the replicas it
 * should have and why. Pure: the caller keeps the returned state and passes it back on the next tick.
 */
import type { FunctionScaling } from '../contract/function-spec.js';

/**
 * What the function's pods and the activator did over one interval (about a second): the requests in flight
 * averaged over the interval and summed over the pods (extrapolated when only some pods were read), the
 * requests answered, and the requests the activator held for it.
 */
export interface ScaleSample {
  at: number;
  concurrency: number;
  requests: number;
  held: number;
}

/** What the decider remembers between ticks, per function. */
export interface ScalerState {
  /** Since when this autoscaler has observed the function: no scale-down before a whole stable window. */
  observingSince: number;
  /** The last time the function had a request in flight, answered one, or had one held. */
  lastActiveAt: number;
  /** The last tick over the panic threshold; absent outside panic mode. */
  panicAt?: number;
  /** The most replicas asked for during this panic: panic mode never scales down. */
  panicReplicas?: number;
}

export interface ScaleInput {
  scaling: FunctionScaling;
  /** Samples in ascending time; those older than the stable window are ignored. */
  samples: readonly ScaleSample[];
  /** The Deployment's spec.replicas. */
  replicas: number;
  /** Pods ready to serve, the denominator of the panic threshold. */
  readyReplicas: number;
  now: number;
  state: ScalerState;
  /**
   * The activator is the function's route, confirmed: only then may the last pod go (make before break).
   * False keeps a function at one pod at least.
   */
  zeroRouteReady: boolean;
  /** What `concurrency` counts, as the reasons say it. Default: `requests in flight`. */
  demand?: string;
}

export interface ScaleDecision {
  replicas: number;
  reason: string;
  panic: boolean;
  /**
   * The function is at zero or would go there now: the activator should be (or stay) its route. False when
   * it serves, so requests go straight to its pods.
   */
  zeroRoute: boolean;
  state: ScalerState;
}

/** Pods run at 70 % of their target concurrency, leaving room for a burst while new pods start (Knative's default). */
export const TARGET_UTILISATION = 0.7;
/** The panic window is this share of the stable window (Knative: 10 %, so 6 s of 60 s). */
export const PANIC_WINDOW_SHARE = 0.1;
/** Panic when the panic window asks for twice the ready pods (Knative's 200 %). */
export const PANIC_THRESHOLD = 2;

/**
 * A new autoscaler's state for a function it starts observing now. A running function counts as active now,
 * since what it served before is unknown here: it gets a whole scale-to-zero-after before it goes. One at
 * zero stays there until a request comes.
 */
export function initialState(now: number, replicas: number): ScalerState {
  return { observingSince: now, lastActiveAt: replicas > 0 ? now : -Infinity };
}

/** The replicas the function should have now, and why. */
export function decideScale(input: ScaleInput): ScaleDecision {
  const { scaling, replicas, now } = input;
  const perPod = scaling.targetConcurrency * TARGET_UTILISATION;
  const panicWindowMs = scaling.stableWindowMs * PANIC_WINDOW_SHARE;
  const stable = averageSince(input.samples, now - scaling.stableWindowMs);
  const panicked = averageSince(input.samples, now - panicWindowMs);
  const lastActiveAt = Math.max(input.state.lastActiveAt, lastActivity(input.samples));
  const held = input.samples.at(-1)?.held ?? 0;
  const idleMs = now - lastActiveAt;
  const observedWindow = now - input.state.observingSince >= scaling.stableWindowMs;

  const stableReplicas = Math.ceil(stable / perPod);
  const panicReplicas = Math.ceil(panicked / perPod);
  const overThreshold = panicked > 0 && panicReplicas >= PANIC_THRESHOLD * Math.max(input.readyReplicas, 1);
  const panicAt = overThreshold ? now : input.state.panicAt;
  const panic = panicAt !== undefined && now - panicAt < scaling.stableWindowMs;

  let wanted = panic ? Math.max(stableReplicas, panicReplicas) : stableReplicas;
  const demand = input.demand ?? 'requests in flight';
  let reason = panic
    ? `panic: ${format(panicked)} ${demand} over ${seconds(panicWindowMs)}, ${format(perPod)} a pod`
    : `${format(stable)} ${demand} over ${seconds(scaling.stableWindowMs)}, ${format(perPod)} a pod`;

  if (panic) {
    const floor = Math.max(replicas, input.state.panicReplicas ?? 0);
    if (wanted < floor) {
      wanted = floor;
      reason += '; panic mode does not scale down';
    }
  } else if (wanted < replicas) {
    // Halving bounds every step down; the last pod goes only by the idle rule below.
    const floor = observedWindow ? (replicas === 1 ? 0 : Math.ceil(replicas / 2)) : replicas;
    if (wanted < floor) {
      wanted = floor;
      reason += observedWindow
        ? '; scale-down limited to half a step'
        : `; no scale-down before a whole ${seconds(scaling.stableWindowMs)} window is observed`;
    }
  }

  let zeroRoute = false;
  if (wanted === 0) {
    if (held > 0) {
      wanted = 1;
      reason = `${held} requests held by the activator`;
    } else if (idleMs < scaling.scaleToZeroAfterMs) {
      wanted = 1;
      reason =
        replicas === 0
          ? 'a request arrived'
          : `idle ${seconds(idleMs)}, below scale-to-zero-after ${seconds(scaling.scaleToZeroAfterMs)}`;
    } else if (replicas > 0 && !input.zeroRouteReady) {
      zeroRoute = true;
      wanted = 1;
      reason = `idle ${seconds(idleMs)}, but the activator is not the route yet; keeping one pod`;
    } else if (replicas > 0) {
      zeroRoute = true;
      reason = `no request for ${seconds(idleMs)} (scale-to-zero-after ${seconds(scaling.scaleToZeroAfterMs)})`;
    } else {
      zeroRoute = true;
      reason = 'idle at zero';
    }
  }

  const bounded = Math.min(scaling.maxScale, Math.max(scaling.minScale, wanted));
  if (bounded !== wanted)
    reason += bounded > wanted ? `; min-scale ${scaling.minScale}` : `; max-scale ${scaling.maxScale}`;
  const state: ScalerState = { observingSince: input.state.observingSince, lastActiveAt };
  if (panic) {
    state.panicAt = panicAt;
    state.panicReplicas = Math.max(input.state.panicReplicas ?? 0, bounded);
  }
  return {
    replicas: bounded,
    reason,
    panic,
    zeroRoute: zeroRoute && scaling.minScale === 0,
    state,
  };
}

/** The mean concurrency of the samples after `since`; zero without any. */
function averageSince(samples: readonly ScaleSample[], since: number): number {
  let sum = 0;
  let count = 0;
  for (let i = samples.length - 1; i >= 0; i--) {
    const sample = samples[i]!;
    if (sample.at <= since) break;
    sum += sample.concurrency + sample.held;
    count += 1;
  }
  return count === 0 ? 0 : sum / count;
}

function lastActivity(samples: readonly ScaleSample[]): number {
  for (let i = samples.length - 1; i >= 0; i--) {
    const sample = samples[i]!;
    if (sample.concurrency > 0 || sample.requests > 0 || sample.held > 0) return sample.at;
  }
  return -Infinity;
}

const format = (n: number): string => String(Math.round(n * 10) / 10);
const seconds = (ms: number): string => `${format(ms / 1000)}s`;
