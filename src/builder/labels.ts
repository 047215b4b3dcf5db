import { StatusAnnotation } from '../contract/annotations.js';

/**
 * Labels on build Jobs and their pods. Not the function label (`cloudbase.dev/function`): the activator and
 * the autoscaler read every pod that carries it as a function pod, and a build pod is not one.
 */
export const BuildLabel = {
  /** The function the Job builds. */
  function: 'cloudbase.dev/build-of',
  /** The build input's key (buildKey), also an annotation of the Job in full. */
  input: 'cloudbase.dev/build-input',
  /** The dependencies layer's key, when the controller knew it (an annotation of the Job). */
  dependencies: StatusAnnotation.buildDependencies,
} as const;
