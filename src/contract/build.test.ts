import { describe, expect, it } from '@jest/globals';
import {
  buildKey,
  buildProblem,
  builtImageOf,
  configMapDigest,
  functionRepository,
  parseRegistry,
  resolveBuild,
} from './build.js';
import type { FunctionSpec } from './function-spec.js';
import { parseFunctionSpec } from './parse.js';

function spec(annotations: Record<string, string>): FunctionSpec {
  const parsed = parseFunctionSpec({
    annotations: {
      'cloudbase.dev/function': 'true',
      'cloudbase.dev/source': 'configmap:code',
      ...annotations,
    },
    name: 'hello',
    namespace: 'demo',
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.spec;
}

const REGISTRY = 'registry.example.com/functions';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const KEY = 'b'.repeat(64);

describe('resolveBuild', () => {
  it.each([
    [{}, undefined, 'pod'],
    [{}, REGISTRY, 'image'],
    [{ 'cloudbase.dev/build': 'pod' }, REGISTRY, 'pod'],
    [{ 'cloudbase.dev/build': 'image' }, undefined, 'image'],
    [{ 'cloudbase.dev/source': 'image' }, REGISTRY, undefined],
  ])('for %j with registry %s builds by %s', (annotations, registry, expected) => {
    expect(resolveBuild(spec(annotations), registry)).toBe(expected);
  });
});

describe('buildProblem', () => {
  it('refuses an image build without a registry, naming the flag and the way out', () => {
    expect(buildProblem(spec({ 'cloudbase.dev/build': 'image' }), undefined)).toBe(
      'cloudbase.dev/build=image needs a registry to push the function\'s image to, and this Cloudbase was installed without one (controller flag --registry); use cloudbase.dev/build=pod, or install Cloudbase with its registry (README, "Image builds")',
    );
  });

  it.each([
    [{ 'cloudbase.dev/build': 'image' }, REGISTRY],
    [{}, undefined],
    [{ 'cloudbase.dev/build': 'pod' }, undefined],
  ])('has nothing against %j with registry %s', (annotations, registry) => {
    expect(buildProblem(spec(annotations), registry)).toBeUndefined();
  });
});

describe('parseRegistry', () => {
  it.each([
    ['registry.example.com', 'registry.example.com'],
    ['registry.example.com/functions/', 'registry.example.com/functions'],
    ['cloudbase-registry.cloudbase-system.svc:5000/f', 'cloudbase-registry.cloudbase-system.svc:5000/f'],
  ])('takes %s as %s', (value, expected) => {
    expect(parseRegistry(value)).toBe(expected);
  });

  it.each(['https://registry.example.com', 'Registry.example.com', 'r.example.com/f:latest', '', 'a b'])(
    'refuses %j, saying what a registry looks like',
    (value) => {
      const parsed = parseRegistry(value);
      expect(parsed).toBeInstanceOf(Error);
      expect((parsed as Error).message).toContain('expected HOST[:PORT][/PREFIX]');
    },
  );
});

describe('functionRepository', () => {
  it('is the registry, the namespace and the function', () => {
    expect(functionRepository(REGISTRY, 'demo', 'hello')).toBe(`${REGISTRY}/demo/hello`);
  });
});

describe('buildKey', () => {
  const input = { sourceDigest: DIGEST, baseImage: 'r/runtime@sha256:1', builder: 'crane v0.22.1 / 1' };

  it('is the same for the same input and 64 hex digits', () => {
    expect(buildKey({ ...input })).toBe(buildKey(input));
    expect(buildKey(input)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(['sourceDigest', 'baseImage', 'builder'] as const)('changes with the %s', (field) => {
    expect(buildKey({ ...input, [field]: `${input[field]}x` })).not.toBe(buildKey(input));
  });
});

describe('configMapDigest', () => {
  it('does not depend on key order', () => {
    expect(configMapDigest({ 'a.js': '1', 'b.js': '2' }, undefined)).toBe(
      configMapDigest({ 'b.js': '2', 'a.js': '1' }, {}),
    );
  });

  it.each([
    [{ 'a.js': '1' }, { 'a.js': '2' }],
    [{ 'a.js': '1' }, { 'b.js': '1' }],
    [{ ab: 'c' }, { a: 'bc' }],
  ])('tells %j from %j', (one, other) => {
    expect(configMapDigest(one, undefined)).not.toBe(configMapDigest(other, undefined));
  });

  it('tells a text file from a binary one with the same characters', () => {
    expect(configMapDigest({ f: 'AA==' }, undefined)).not.toBe(configMapDigest(undefined, { f: 'AA==' }));
  });
});

describe('builtImageOf', () => {
  it('reads the pinned image and its build input', () => {
    const image = `${REGISTRY}/demo/hello@${DIGEST}`;
    expect(builtImageOf({ 'cloudbase.dev/image': image, 'cloudbase.dev/build-input': KEY })).toEqual({
      image,
      key: KEY,
    });
  });

  it.each([
    [{}],
    [{ 'cloudbase.dev/image': `${REGISTRY}/demo/hello@${DIGEST}` }],
    [{ 'cloudbase.dev/image': `${REGISTRY}/demo/hello:latest`, 'cloudbase.dev/build-input': KEY }],
    [{ 'cloudbase.dev/image': `${REGISTRY}/demo/hello@${DIGEST}`, 'cloudbase.dev/build-input': 'x' }],
  ])('ignores %j: no pinned image of a known input', (annotations) => {
    expect(builtImageOf(annotations)).toBeUndefined();
  });
});
