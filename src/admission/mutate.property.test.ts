import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { mutate } from './mutate.js';
import { admissionRequest, decodePatch, TEST_CONFIG } from '../testing/fixtures.js';
import { fuzzParameters } from '../testing/fuzz-seed.js';

// Keys with '/' and '~' exercise JSON Pointer escaping (RFC 6901) in the generated patches.
const labelKey = fc.constantFrom('app', 'example.com/team', 'a~b', 'x/y~z', 'cloudbase.dev/function');
const labelMap = fc.dictionary(labelKey, fc.constantFrom('a', 'b', 'hello'), { maxKeys: 3 });

const annotations = fc
  .record(
    {
      function: fc.constantFrom('true', 'greeter'),
      source: fc.constantFrom('configmap:code', 'https://example.com/a.tgz', 'image'),
      runtime: fc.constantFrom('nodejs20', 'nodejs22', 'nodejs24'),
      handler: fc.constantFrom('index.js', 'lib/main.mjs#handler'),
      signature: fc.constantFrom('fetch', 'openfaas', 'knative'),
      route: fc.constantFrom('/', '/api/v1', '/x/'),
      host: fc.constantFrom('fn.example.com'),
      extra: fc.constantFrom('x'),
    },
    { requiredKeys: ['function', 'source'] },
  )
  .map((a) => {
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(a))
      result[key === 'extra' ? 'x/y~z' : `cloudbase.dev/${key}`] = value;
    if (a.source.startsWith('https')) result['cloudbase.dev/source-sha256'] = 'c'.repeat(64);
    return result;
  });

const env = fc.array(
  fc.record({
    name: fc.constantFrom('GREETING', 'CLOUDBASE_HANDLER', 'CLOUDBASE_OLD'),
    value: fc.constantFrom('1', '2'),
  }),
  { maxLength: 3 },
);

// Typed loosely: the wire carries nulls the client-node types do not admit.
const functionContainer = fc.record(
  {
    name: fc.constant('function'),
    image: fc.constantFrom('example.com/own:1', 'registry.test/cloudbase/runtime-nodejs20:1.0.0'),
    env,
    ports: fc.constantFrom(
      [{ name: 'http', containerPort: 3000 }],
      [{ name: 'metrics', containerPort: 9100 }],
    ),
    resources: fc.constantFrom({}, { limits: { memory: '1Gi' } }, null),
    securityContext: fc.constantFrom({}, { runAsUser: 4000, readOnlyRootFilesystem: false }, null),
    command: fc.constantFrom(null, ['node', 'server.js']),
    volumeMounts: fc.constantFrom(
      [{ name: 'data', mountPath: '/data' }],
      [{ name: 'cloudbase-workspace', mountPath: '/elsewhere' }],
    ),
    readinessProbe: fc.constantFrom({ tcpSocket: { port: 3000 } }),
  },
  { requiredKeys: ['name'] },
);

const otherContainer = fc.record({
  name: fc.constantFrom('proxy', 'cloudbase-fetch'),
  image: fc.constant('example.com/x:1'),
});

const deployment: fc.Arbitrary<V1Deployment> = fc
  .record(
    {
      annotations,
      labels: fc.option(labelMap, { nil: undefined }),
      templateLabels: fc.option(labelMap, { nil: undefined }),
      // The API server sends an unset selector as null.
      selector: fc.option(fc.constantFrom({ matchLabels: { app: 'a' } }, null), { nil: undefined }),
      function: fc.option(functionContainer, { nil: undefined }),
      sidecars: fc.array(fc.record({ name: fc.constantFrom('proxy', 'agent'), image: fc.constant('s:1') }), {
        maxLength: 2,
      }),
      initContainers: fc.option(fc.array(otherContainer, { maxLength: 2 }), { nil: undefined }),
      volumes: fc.option(
        fc.array(fc.constantFrom({ name: 'data', emptyDir: {} }, { name: 'cloudbase-tmp', emptyDir: {} }), {
          maxLength: 2,
        }),
        { nil: undefined },
      ),
    },
    { requiredKeys: ['annotations', 'sidecars'] },
  )
  .map((g) => {
    const uniqueByName = <T extends { name: string }>(items: T[]): T[] =>
      items.filter((item, i) => items.findIndex((other) => other.name === item.name) === i);
    const containers = uniqueByName([...(g.function === undefined ? [] : [g.function]), ...g.sidecars]);
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hello', namespace: 'demo', annotations: g.annotations, labels: g.labels },
      spec: {
        selector: g.selector,
        template: {
          metadata: {
            creationTimestamp: null,
            ...(g.templateLabels === undefined ? {} : { labels: g.templateLabels }),
          },
          spec: {
            containers,
            initContainers: g.initContainers === undefined ? undefined : uniqueByName(g.initContainers),
            volumes: g.volumes === undefined ? undefined : uniqueByName(g.volumes),
          },
        },
      },
    } as unknown as V1Deployment;
  })
  .map((d) => JSON.parse(JSON.stringify(d)) as V1Deployment); // as on the wire: no undefined values

/** With and without an activator to announce to: its token volume and variables are injected too. */
const CONFIGS = [TEST_CONFIG, { ...TEST_CONFIG, activatorUrl: 'http://10.96.0.20:9090' }];

function admit(d: V1Deployment, config = TEST_CONFIG): V1Deployment {
  const { response } = mutate(admissionRequest(d), config);
  const operations = decodePatch(response.patch) as jsonPatch.Operation[];
  return jsonPatch.applyPatch(structuredClone(d), operations, true, false).newDocument;
}

describe('mutate, for generated Deployments', () => {
  it('is idempotent: the second admission yields no patch', () => {
    fc.assert(
      fc.property(deployment, fc.constantFrom(...CONFIGS), (d, config) => {
        const before = JSON.stringify(d);
        const once = admit(d, config);
        expect(JSON.stringify(d)).toBe(before); // the request's object is never changed
        const second = mutate(admissionRequest(once, 'UPDATE'), config);
        expect(second.response.patch).toBeUndefined();
        expect(second.response.patchType).toBeUndefined();
        expect(second.decision).toBe('unchanged');
      }),
      { ...fuzzParameters(), numRuns: 500 },
    );
  });

  it('leaves every volume mount pointing at a volume of the pod', () => {
    fc.assert(
      fc.property(deployment, fc.constantFrom(...CONFIGS), (d, config) => {
        const podSpec = admit(d, config).spec!.template.spec!;
        const volumes = new Set((podSpec.volumes ?? []).map((v) => v.name));
        for (const container of [...(podSpec.initContainers ?? []), ...podSpec.containers]) {
          for (const mount of container.volumeMounts ?? []) {
            if (mount.name !== 'data') expect(volumes).toContain(mount.name);
          }
        }
      }),
      { ...fuzzParameters(), numRuns: 300 },
    );
  });

  it('keeps the template labels matching a selector Cloudbase filled in', () => {
    fc.assert(
      fc.property(deployment, (d) => {
        const admitted = admit(d);
        const selector = admitted.spec!.selector.matchLabels ?? {};
        const labels = admitted.spec!.template.metadata!.labels ?? {};
        if (d.spec?.selector == null) expect(labels).toMatchObject(selector);
      }),
      { ...fuzzParameters(), numRuns: 200 },
    );
  });
});
