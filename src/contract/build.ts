/**
 * Image builds (`cloudbase.dev/build: image`): which functions are built, where their images go, and the
 * build input that names one build. The controller starts a build Job for an input it has not built yet
 * (src/builder); the webhook runs the image of the last successful build (src/admission).
 */
import { createHash } from 'node:crypto';
import { Annotation, StatusAnnotation } from './annotations.js';
import type { Build, FunctionSource, FunctionSpec } from './function-spec.js';

/**
 * What a function is built by: the annotation when given, else the installation's default, `image` when it
 * has a registry (`--registry`) and `pod` without one. A source that is an image already builds nothing.
 */
export function resolveBuild(spec: FunctionSpec, registry: string | undefined): Build | undefined {
  if (spec.source.kind === 'image') return undefined;
  return spec.build ?? (registry === undefined ? 'pod' : 'image');
}

/** Why an image build cannot be admitted, or undefined: it needs a registry to push to. */
export function buildProblem(spec: FunctionSpec, registry: string | undefined): string | undefined {
  if (resolveBuild(spec, registry) !== 'image' || registry !== undefined) return undefined;
  return `${Annotation.build}=image needs a registry to push the function's image to, and this Cloudbase was installed without one (controller flag --registry); use ${Annotation.build}=pod, or install Cloudbase with its registry (README, "Image builds")`;
}

/** `HOST[:PORT][/PATH]`, as `--registry` takes it: a registry host and an optional repository prefix. */
const REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/** The `--registry` value without a trailing `/`, or a sentence saying why it is not one. */
export function parseRegistry(value: string): string | Error {
  const trimmed = value.trim().replace(/\/+$/, '');
  if (!REGISTRY.test(trimmed))
    return new Error(
      `--registry=${JSON.stringify(value)} is not a registry: expected HOST[:PORT][/PREFIX] in lowercase, e.g. registry.example.com/functions, with no scheme and no tag`,
    );
  return trimmed;
}

/** A function's image repository: `<registry>/<namespace>/<function>`. */
export function functionRepository(registry: string, namespace: string, name: string): string {
  return `${registry}/${namespace}/${name}`;
}

/**
 * Everything a build's result depends on. The same input always gives the same image digest (the layers are
 * deterministic), so one input is built once.
 */
export interface BuildInput {
  /** The source's content: a digest of a ConfigMap's data, or an https tarball's sha256. */
  sourceDigest: string;
  /** The runtime image the layers go on. */
  baseImage: string;
  /** The assembler image and the version of the build steps, which decide the layers' bytes. */
  builder: string;
}

/** The build input's name: hex sha256 of its fields. */
export function buildKey(input: BuildInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.sourceDigest, input.baseImage, input.builder]))
    .digest('hex');
}

/**
 * The digest of a ConfigMap's files (its `data` and `binaryData`), independent of key order: the content
 * of a `configmap:` source.
 */
export function configMapDigest(
  data: Readonly<Record<string, string>> | undefined,
  binaryData: Readonly<Record<string, string>> | undefined,
): string {
  const hash = createHash('sha256');
  const entries = [
    ...Object.entries(data ?? {}).map(([k, v]) => [k, 'text', v] as const),
    ...Object.entries(binaryData ?? {}).map(([k, v]) => [k, 'base64', v] as const),
  ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, encoding, value] of entries) hash.update(JSON.stringify([key, encoding, value]));
  return `sha256:${hash.digest('hex')}`;
}

/** The source digest of a source that is not a ConfigMap; a ConfigMap's needs its content (configMapDigest). */
export function tarballDigest(source: Extract<FunctionSource, { kind: 'https' }>): string {
  return `sha256:${source.sha256}`;
}

/**
 * The dependencies layer's key: what `npm ci` reads (package.json, when there is one, and the lockfile) and
 * `salt` (the base image and the builder). The build step computes it from the workspace and the controller
 * from a ConfigMap's files: the same bytes give the same key.
 */
export function dependenciesKey(
  packageJson: Uint8Array | string | undefined,
  lockfile: { name: string; content: Uint8Array | string },
  salt: string,
): string {
  const hash = createHash('sha256').update(JSON.stringify(['cloudbase deps v1', salt]));
  for (const [name, content] of [
    ['package.json', packageJson],
    [lockfile.name, lockfile.content],
  ] as const) {
    const bytes = content === undefined ? undefined : Buffer.from(content);
    hash.update(JSON.stringify([name, bytes === undefined ? null : bytes.length]));
    if (bytes !== undefined) hash.update(bytes);
  }
  return hash.digest('hex');
}

/** An image pinned by digest, as `cloudbase.dev/image` holds it: `<repository>@sha256:<64 hex>`. */
const PINNED = /^([^@\s]+)@(sha256:[0-9a-f]{64})$/;

/** The last successful build, as the controller records it on the Deployment. */
export interface BuiltImage {
  /** `<repository>@sha256:...`. */
  image: string;
  /** The build input's key (buildKey) the image was built from. */
  key: string;
}

/**
 * The built image a Deployment's status annotations record, or undefined when there is none (never built,
 * or a value that is not a pinned image: a hand edit is ignored rather than run).
 */
export function builtImageOf(
  annotations: Readonly<Record<string, string>> | undefined,
): BuiltImage | undefined {
  const image = annotations?.[StatusAnnotation.image];
  const key = annotations?.[StatusAnnotation.buildInput];
  if (image === undefined || key === undefined || !PINNED.test(image) || !/^[0-9a-f]{64}$/.test(key))
    return undefined;
  return { image, key };
}

/** The states `cloudbase.dev/build-status` takes. */
export const BuildStatus = {
  building: 'Building',
  succeeded: 'Succeeded',
  failed: 'Failed',
} as const;
export type BuildStatus = (typeof BuildStatus)[keyof typeof BuildStatus];
