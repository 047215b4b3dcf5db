import { describe, expect, it } from '@jest/globals';
import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import jsonPatch from 'fast-json-patch';
import type { AdmissionFacts } from './inject/config.js';
import { mutate } from './mutate.js';
import { admissionRequest, decodePatch, minimalFunction, TEST_CONFIG } from '../testing/fixtures.js';

const IMAGE_22 = 'registry.test/cloudbase/runtime-nodejs22:1.0.0';
const IMAGE_24 = 'registry.test/cloudbase/runtime-nodejs24:1.0.0';
const NOW = new Date('2026-12-01T10:00:00.000Z');

/** Runs the mutating webhook and returns the object the API server would store. */
function admit(deployment: V1Deployment, facts: AdmissionFacts = {}): V1Deployment {
  const { response } = mutate(admissionRequest(deployment), TEST_CONFIG, { now: NOW, ...facts });
  expect(response.allowed).toBe(true);
  const operations = decodePatch(response.patch) as jsonPatch.Operation[];
  return jsonPatch.applyPatch(structuredClone(deployment), operations, true, false).newDocument;
}

const restricted = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};

const labels = { 'cloudbase.dev/function': 'hello', 'app.kubernetes.io/managed-by': 'cloudbase' };

const EVENT_FUNCTION = {
  'cloudbase.dev/trigger': 'event',
  'cloudbase.dev/events': 'orders.*',
  'cloudbase.dev/event-backoff': '1s,10s',
  'cloudbase.dev/event-concurrency': '8',
};

describe('mutate', () => {
  describe('when the function takes events', () => {
    const config = { ...TEST_CONFIG, activatorUrl: 'http://10.96.0.20:9090', eventsUrl: 'nats://bus:4222' };
    const admitted = (): V1PodSpec => {
      const { response } = mutate(admissionRequest(minimalFunction(EVENT_FUNCTION)), config, { now: NOW });
      const operations = decodePatch(response.patch) as jsonPatch.Operation[];
      return jsonPatch.applyPatch(structuredClone(minimalFunction(EVENT_FUNCTION)), operations, true, false)
        .newDocument.spec!.template.spec!;
    };

    it('tells the runtime to consume events, from where, and by which policy', () => {
      const env = admitted().containers[0]!.env ?? [];
      expect(
        env.filter((e) => e.name.startsWith('CLOUDBASE_TRIGGER') || e.name.startsWith('CLOUDBASE_EVENTS_')),
      ).toEqual([
        { name: 'CLOUDBASE_TRIGGER', value: 'event' },
        { name: 'CLOUDBASE_EVENTS_URL', value: 'nats://bus:4222' },
        { name: 'CLOUDBASE_EVENTS_MAX_ATTEMPTS', value: '5' },
        { name: 'CLOUDBASE_EVENTS_BACKOFF_MS', value: '1000,10000' },
        { name: 'CLOUDBASE_EVENTS_CONCURRENCY', value: '8' },
      ]);
    });

    it('gives it nothing to announce to the activator, which never holds its events', () => {
      const podSpec = admitted();
      expect(podSpec.containers[0]!.env?.map((e) => e.name)).not.toContain('CLOUDBASE_ACTIVATOR_URL');
      expect(podSpec.volumes?.map((v) => v.name)).not.toContain('cloudbase-activator-token');
    });
  });

  describe('when Cloudbase runs an activator', () => {
    const config = { ...TEST_CONFIG, activatorUrl: 'http://10.96.0.20:9090' };
    const withActivator = (deployment: V1Deployment): V1Deployment => {
      const { response } = mutate(admissionRequest(deployment), config, { now: NOW });
      const operations = decodePatch(response.patch) as jsonPatch.Operation[];
      return jsonPatch.applyPatch(structuredClone(deployment), operations, true, false).newDocument;
    };

    it('gives the function container where to announce itself, its IP and UID, and a token for that only', () => {
      const podSpec = withActivator(minimalFunction()).spec!.template.spec!;
      expect(podSpec.automountServiceAccountToken).toBe(false);
      expect(podSpec.volumes).toContainEqual({
        name: 'cloudbase-activator-token',
        projected: {
          sources: [
            {
              serviceAccountToken: {
                audience: 'activator.cloudbase.dev',
                expirationSeconds: 600,
                path: 'token',
              },
            },
          ],
        },
      });
      const container = podSpec.containers[0]!;
      expect(container.volumeMounts).toContainEqual({
        name: 'cloudbase-activator-token',
        mountPath: '/var/run/secrets/cloudbase.dev/activator',
        readOnly: true,
      });
      expect(container.env).toEqual(
        expect.arrayContaining([
          { name: 'CLOUDBASE_ACTIVATOR_URL', value: 'http://10.96.0.20:9090' },
          {
            name: 'CLOUDBASE_POD_IP',
            valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } },
          },
          {
            name: 'CLOUDBASE_POD_UID',
            valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } },
          },
        ]),
      );
    });

    it('takes all of it out again once there is no activator', () => {
      const podSpec = admit(withActivator(minimalFunction())).spec!.template.spec!;
      expect(JSON.stringify(podSpec)).not.toMatch(/activator|CLOUDBASE_POD_/i);
    });
  });

  describe('when the function is built into an image (Cloudbase has a registry)', () => {
    const config = { ...TEST_CONFIG, registry: 'registry.test/functions' };
    const PINNED = `registry.test/functions/demo/hello@sha256:${'d'.repeat(64)}`;
    const built = { 'cloudbase.dev/image': PINNED, 'cloudbase.dev/build-input': 'e'.repeat(64) };
    const withRegistry = (deployment: V1Deployment): V1Deployment => {
      const { response } = mutate(admissionRequest(deployment), config, { now: NOW });
      expect(response.allowed).toBe(true);
      const operations = decodePatch(response.patch) as jsonPatch.Operation[];
      return jsonPatch.applyPatch(structuredClone(deployment), operations, true, false).newDocument;
    };

    it('pauses the Deployment until its first image exists, so no pod runs unbuilt code', () => {
      expect(withRegistry(minimalFunction()).spec!.paused).toBe(true);
    });

    it('runs the built image with the code in it: no build container, no source volume, unpaused', () => {
      const paused = withRegistry(minimalFunction());
      paused.metadata!.annotations = { ...paused.metadata!.annotations, ...built };
      const admitted = withRegistry(paused);
      expect(admitted.spec!.paused).toBeUndefined();
      const podSpec = admitted.spec!.template.spec!;
      expect(podSpec.initContainers).toBeUndefined();
      expect((podSpec.volumes ?? []).map((v) => v.name)).toEqual(['cloudbase-tmp']);
      const container = podSpec.containers[0]!;
      expect(container.image).toBe(PINNED);
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({ CLOUDBASE_WORKSPACE: '/workspace' });
      expect(env.CLOUDBASE_SOURCE).toBeUndefined();
    });

    it('is idempotent on the built image', () => {
      const once = withRegistry(minimalFunction(built));
      expect(withRegistry(structuredClone(once))).toEqual(once);
    });

    it('builds in the pod as before when the function says cloudbase.dev/build: pod', () => {
      const admitted = withRegistry(minimalFunction({ 'cloudbase.dev/build': 'pod', ...built }));
      expect(admitted.spec!.paused).toBeUndefined();
      expect(admitted.spec!.template.spec!.containers[0]!.image).toBe(IMAGE_22);
      expect(admitted.spec!.template.spec!.initContainers?.map((c) => c.name)).toEqual(['cloudbase-build']);
    });

    it('goes back to the runtime image and the pod build when the function leaves image builds', () => {
      const imageBuilt = withRegistry(minimalFunction(built));
      imageBuilt.metadata!.annotations!['cloudbase.dev/build'] = 'pod';
      const admitted = withRegistry(imageBuilt);
      expect(admitted.spec!.template.spec!.containers[0]!.image).toBe(IMAGE_22);
      expect(admitted.spec!.template.spec!.initContainers?.map((c) => c.name)).toEqual(['cloudbase-build']);
    });

    it('ignores an image annotation that is not a pinned digest (a hand edit), staying paused', () => {
      const admitted = withRegistry(
        minimalFunction({ ...built, 'cloudbase.dev/image': 'registry.test/functions/demo/hello:latest' }),
      );
      expect(admitted.spec!.paused).toBe(true);
      expect(admitted.spec!.template.spec!.containers[0]!.image).toBe(IMAGE_22);
    });
  });

  describe('when given a minimal function', () => {
    it('injects labels, selector, volumes, build steps and a complete function container', () => {
      expect(admit(minimalFunction())).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: 'hello',
          namespace: 'demo',
          annotations: {
            'cloudbase.dev/function': 'true',
            'cloudbase.dev/source': 'configmap:hello-code',
            'cloudbase.dev/url': '/demo/hello',
            'cloudbase.dev/claim': '2026-12-01T10:00:00.000Z hello web:*/demo/hello',
          },
          labels,
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: { 'cloudbase.dev/function': 'hello' } },
          template: {
            metadata: {
              labels,
              annotations: {
                'cloudbase.dev/injected-image': IMAGE_22,
                'kubectl.kubernetes.io/default-container': 'function',
              },
            },
            spec: {
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 40,
              volumes: [
                { name: 'cloudbase-workspace', emptyDir: { sizeLimit: '1Gi' } },
                { name: 'cloudbase-source', configMap: { name: 'hello-code' } },
                { name: 'cloudbase-tmp', emptyDir: { sizeLimit: '256Mi' } },
              ],
              initContainers: [
                {
                  name: 'cloudbase-build',
                  image: IMAGE_22,
                  command: ['cloudbase-runtime', 'build'],
                  env: [
                    { name: 'CLOUDBASE_WORKSPACE', value: '/workspace' },
                    { name: 'CLOUDBASE_SOURCE', value: 'configmap:hello-code' },
                    { name: 'CLOUDBASE_SOURCE_DIR', value: '/cloudbase/source' },
                  ],
                  volumeMounts: [
                    { name: 'cloudbase-workspace', mountPath: '/workspace', readOnly: false },
                    { name: 'cloudbase-tmp', mountPath: '/tmp' },
                    { name: 'cloudbase-source', mountPath: '/cloudbase/source', readOnly: true },
                  ],
                  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '768Mi' } },
                  securityContext: restricted,
                  terminationMessagePolicy: 'FallbackToLogsOnError',
                },
              ],
              containers: [
                {
                  name: 'function',
                  image: IMAGE_22,
                  command: ['cloudbase-runtime', 'serve'],
                  ports: [
                    { name: 'http', containerPort: 8080, protocol: 'TCP' },
                    { name: 'admin', containerPort: 9090, protocol: 'TCP' },
                  ],
                  env: [
                    { name: 'CLOUDBASE_FUNCTION_NAME', value: 'hello' },
                    { name: 'CLOUDBASE_NAMESPACE', value: 'demo' },
                    { name: 'CLOUDBASE_RUNTIME', value: 'nodejs22' },
                    { name: 'CLOUDBASE_HANDLER', value: 'index.js' },
                    { name: 'CLOUDBASE_SIGNATURE', value: 'fetch' },
                    { name: 'CLOUDBASE_PORT', value: '8080' },
                    { name: 'CLOUDBASE_ADMIN_PORT', value: '9090' },
                    { name: 'CLOUDBASE_WORKSPACE', value: '/workspace' },
                  ],
                  volumeMounts: [
                    { name: 'cloudbase-workspace', mountPath: '/workspace', readOnly: true },
                    { name: 'cloudbase-tmp', mountPath: '/tmp' },
                  ],
                  lifecycle: { postStart: { exec: { command: ['cloudbase-runtime', 'await-ready'] } } },
                  readinessProbe: {
                    httpGet: { path: '/readyz', port: 'admin', scheme: 'HTTP' },
                    periodSeconds: 1,
                    failureThreshold: 3,
                    timeoutSeconds: 2,
                  },
                  livenessProbe: {
                    httpGet: { path: '/livez', port: 'admin', scheme: 'HTTP' },
                    periodSeconds: 10,
                    failureThreshold: 3,
                    timeoutSeconds: 2,
                  },
                  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                  securityContext: restricted,
                  terminationMessagePolicy: 'FallbackToLogsOnError',
                },
              ],
            },
          },
        },
      });
    });

    it('answers with a JSONPatch and decision "patched"', () => {
      const outcome = mutate(admissionRequest(minimalFunction()), TEST_CONFIG);
      expect(outcome.decision).toBe('patched');
      expect(outcome.functionName).toBe('hello');
      expect(outcome.response).toMatchObject({
        allowed: true,
        status: { code: 200 },
        patchType: 'JSONPatch',
      });
    });
  });

  describe('when the object was already mutated', () => {
    it('yields no patch and no patchType', () => {
      const once = admit(minimalFunction());
      const request = admissionRequest(once, 'UPDATE');
      expect(mutate(request, TEST_CONFIG)).toEqual({
        response: { uid: request.uid, allowed: true, status: { code: 200 } },
        decision: 'unchanged',
        functionName: 'hello',
      });
    });

    it('yields no patch after the API server filled in its defaults', () => {
      const stored = admit(minimalFunction());
      const podSpec = stored.spec!.template.spec!;
      for (const container of [...podSpec.initContainers!, ...podSpec.containers]) {
        container.imagePullPolicy = 'IfNotPresent';
        container.terminationMessagePath = '/dev/termination-log';
      }
      podSpec.volumes![1]!.configMap!.defaultMode = 420;
      podSpec.restartPolicy = 'Always';
      expect(decodePatch(mutate(admissionRequest(stored, 'UPDATE'), TEST_CONFIG).response.patch)).toEqual([]);
    });
  });

  describe('when only our labels are missing', () => {
    it('adds them with escaped JSON pointers, keeping the other labels', () => {
      const stored = admit(minimalFunction());
      stored.metadata!.labels = { 'example.com/team~x': 'a' };
      const { response } = mutate(admissionRequest(stored, 'UPDATE'), TEST_CONFIG);
      expect(decodePatch(response.patch)).toEqual([
        { op: 'add', path: '/metadata/labels/cloudbase.dev~1function', value: 'hello' },
        { op: 'add', path: '/metadata/labels/app.kubernetes.io~1managed-by', value: 'cloudbase' },
      ]);
    });

    it('adds the whole map when the template has no labels', () => {
      const stored = admit(minimalFunction());
      delete stored.spec!.template.metadata!.labels;
      const { response } = mutate(admissionRequest(stored, 'UPDATE'), TEST_CONFIG);
      expect(decodePatch(response.patch)).toEqual([
        { op: 'add', path: '/spec/template/metadata/labels', value: labels },
      ]);
    });
  });

  describe('when the user set fields of the function container', () => {
    it('keeps the image, command, env, probes, resources and security fields', () => {
      const deployment = minimalFunction();
      deployment.spec!.template.spec!.securityContext = { runAsUser: 2000 };
      deployment.spec!.template.spec!.containers = [
        {
          name: 'function',
          image: 'example.com/custom-runtime:2',
          args: ['--inspect'],
          env: [
            { name: 'GREETING', value: 'hi' },
            { name: 'CLOUDBASE_HANDLER', value: 'stale.js' },
          ],
          ports: [{ name: 'http', containerPort: 3000 }],
          readinessProbe: { tcpSocket: { port: 3000 } },
          resources: { limits: { memory: '1Gi' } },
          securityContext: { readOnlyRootFilesystem: false },
        },
      ];
      const container = admit(deployment).spec!.template.spec!.containers[0]!;
      expect(container.image).toBe('example.com/custom-runtime:2');
      expect(container.command).toBeUndefined();
      expect(container.args).toEqual(['--inspect']);
      expect(container.env?.slice(0, 2)).toEqual([
        { name: 'GREETING', value: 'hi' },
        { name: 'CLOUDBASE_HANDLER', value: 'index.js' },
      ]);
      expect(container.env?.find((e) => e.name === 'CLOUDBASE_PORT')).toEqual({
        name: 'CLOUDBASE_PORT',
        value: '3000',
      });
      expect(container.readinessProbe).toEqual({ tcpSocket: { port: 3000 } });
      expect(container.resources).toEqual({ limits: { memory: '1Gi' } });
      expect(container.securityContext).toEqual({
        readOnlyRootFilesystem: false,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        runAsNonRoot: true,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
    });
  });

  describe('when an annotation changes on update', () => {
    it('replaces the runtime image it injected but not one the user set', () => {
      const stored = admit(minimalFunction());
      stored.metadata!.annotations!['cloudbase.dev/runtime'] = 'nodejs24';
      const updated = admit(stored);
      expect(updated.spec!.template.spec!.containers[0]!.image).toBe(IMAGE_24);
      expect(updated.spec!.template.spec!.initContainers!.map((c) => c.image)).toEqual([IMAGE_24]);

      const userImage = admit(minimalFunction());
      userImage.spec!.template.spec!.containers[0]!.image = 'example.com/mine:1';
      userImage.metadata!.annotations!['cloudbase.dev/runtime'] = 'nodejs24';
      const kept = admit(userImage);
      expect(kept.spec!.template.spec!.containers[0]!.image).toBe('example.com/mine:1');
      expect(kept.spec!.template.metadata!.annotations!['cloudbase.dev/injected-image']).toBeUndefined();
    });

    it('rewrites cloudbase.dev/url for a new route and host', () => {
      const stored = admit(minimalFunction());
      stored.metadata!.annotations!['cloudbase.dev/route'] = '/v2/hello';
      stored.metadata!.annotations!['cloudbase.dev/host'] = 'fn.example.com';
      expect(admit(stored).metadata!.annotations!['cloudbase.dev/url']).toBe(
        'http://fn.example.com/v2/hello',
      );
    });

    it('rebuilds the fetch step and volumes for a new source', () => {
      const stored = admit(minimalFunction());
      stored.metadata!.annotations!['cloudbase.dev/source'] = 'https://example.com/fn.tgz';
      stored.metadata!.annotations!['cloudbase.dev/source-sha256'] = 'b'.repeat(64);
      const podSpec = admit(stored).spec!.template.spec!;
      expect(podSpec.volumes!.map((v) => v.name)).toEqual(['cloudbase-workspace', 'cloudbase-tmp']);
      expect(podSpec.initContainers![0]!.env).toEqual([
        { name: 'CLOUDBASE_WORKSPACE', value: '/workspace' },
        { name: 'CLOUDBASE_SOURCE', value: 'https://example.com/fn.tgz' },
        { name: 'CLOUDBASE_SOURCE_SHA256', value: 'b'.repeat(64) },
      ]);
      expect(podSpec.initContainers![0]!.volumeMounts!.map((m) => m.name)).toEqual([
        'cloudbase-workspace',
        'cloudbase-tmp',
      ]);
    });

    it('drops the runtime image, build steps and workspace when the code moves into the image', () => {
      const stored = admit(minimalFunction());
      stored.metadata!.annotations!['cloudbase.dev/source'] = 'image';
      const podSpec = admit(stored).spec!.template.spec!;
      expect(podSpec.initContainers).toBeUndefined();
      expect(podSpec.volumes).toEqual([{ name: 'cloudbase-tmp', emptyDir: { sizeLimit: '256Mi' } }]);
      expect(podSpec.containers[0]!.image).toBeUndefined();
      expect(podSpec.containers[0]!.volumeMounts).toEqual([{ name: 'cloudbase-tmp', mountPath: '/tmp' }]);
    });
  });

  describe('when the function sets a timeout and its own runtime settings', () => {
    it('writes CLOUDBASE_TIMEOUT_MS and keeps the variables the user owns', () => {
      const deployment = minimalFunction({ 'cloudbase.dev/timeout': '5s' });
      deployment.spec!.template.spec!.containers[0]!.env = [
        { name: 'CLOUDBASE_LOG_LEVEL', value: 'debug' },
        { name: 'CLOUDBASE_MAX_BODY_BYTES', value: '1024' },
      ];
      const env = admit(deployment).spec!.template.spec!.containers[0]!.env!;
      expect(env.slice(0, 2)).toEqual([
        { name: 'CLOUDBASE_LOG_LEVEL', value: 'debug' },
        { name: 'CLOUDBASE_MAX_BODY_BYTES', value: '1024' },
      ]);
      expect(env.find((e) => e.name === 'CLOUDBASE_TIMEOUT_MS')).toEqual({
        name: 'CLOUDBASE_TIMEOUT_MS',
        value: '5000',
      });
    });

    it('drops CLOUDBASE_TIMEOUT_MS when the annotation goes', () => {
      const stored = admit(minimalFunction({ 'cloudbase.dev/timeout': '5s' }));
      delete stored.metadata!.annotations!['cloudbase.dev/timeout'];
      const env = admit(stored).spec!.template.spec!.containers[0]!.env!;
      expect(env.map((e) => e.name)).not.toContain('CLOUDBASE_TIMEOUT_MS');
    });
  });

  describe('when the spec is null, as a Go client encodes an unset one', () => {
    it('builds the spec instead of failing', () => {
      const deployment = { ...minimalFunction(), spec: null } as unknown as V1Deployment;
      expect(admit(deployment).spec!.selector).toEqual({
        matchLabels: { 'cloudbase.dev/function': 'hello' },
      });
    });
  });

  describe('when the source ConfigMap needs no build (plain files, no lockfile)', () => {
    const plain = { configMapKeys: ['index.js', 'package.json', '.npmrc'] };

    it('mounts it read-only as the workspace, with no init container and no emptyDir workspace', () => {
      const podSpec = admit(minimalFunction(), plain).spec!.template.spec!;
      expect(podSpec.initContainers).toBeUndefined();
      expect(podSpec.volumes).toEqual([
        { name: 'cloudbase-source', configMap: { name: 'hello-code' } },
        { name: 'cloudbase-tmp', emptyDir: { sizeLimit: '256Mi' } },
      ]);
      const container = podSpec.containers[0]!;
      expect(container.volumeMounts).toEqual([
        { name: 'cloudbase-source', mountPath: '/workspace', readOnly: true },
        { name: 'cloudbase-tmp', mountPath: '/tmp' },
      ]);
      expect(container.env).toContainEqual({ name: 'CLOUDBASE_SOURCE', value: 'configmap:hello-code' });
    });

    it('is idempotent, and switches to the build when a lockfile or a nested path appears', () => {
      const mounted = admit(minimalFunction(), plain);
      const { response } = mutate(admissionRequest(mounted, 'UPDATE'), TEST_CONFIG, plain);
      expect(response.patch).toBeUndefined();

      for (const keys of [
        [...plain.configMapKeys, 'package-lock.json'],
        ['index.js', 'lib__util.js'],
      ]) {
        const built = admit(mounted, { configMapKeys: keys }).spec!.template.spec!;
        expect(built.initContainers!.map((c) => c.name)).toEqual(['cloudbase-build']);
        // Owned entries keep their place and new ones are appended: order carries no meaning here.
        expect(built.volumes!.map((v) => v.name).sort()).toEqual([
          'cloudbase-source',
          'cloudbase-tmp',
          'cloudbase-workspace',
        ]);
        expect(built.containers[0]!.volumeMounts).toContainEqual({
          name: 'cloudbase-workspace',
          mountPath: '/workspace',
          readOnly: true,
        });
        expect(built.containers[0]!.volumeMounts!.filter((m) => m.mountPath === '/workspace')).toHaveLength(
          1,
        );
        expect(built.containers[0]!.env!.map((e) => e.name)).not.toContain('CLOUDBASE_SOURCE');
      }
    });

    it('keeps the build for an https tarball whatever the facts say', () => {
      const tarball = minimalFunction({
        'cloudbase.dev/source': 'https://example.com/fn.tgz',
        'cloudbase.dev/source-sha256': 'b'.repeat(64),
      });
      expect(admit(tarball, plain).spec!.template.spec!.initContainers!.map((c) => c.name)).toEqual([
        'cloudbase-build',
      ]);
    });
  });

  describe('the postStart hook that waits for the runtime', () => {
    it("keeps a hook of the user's", () => {
      const deployment = minimalFunction();
      const hook = { postStart: { exec: { command: ['sh', '-c', 'echo hi'] } } };
      deployment.spec!.template.spec!.containers[0]!.lifecycle = hook;
      expect(admit(deployment).spec!.template.spec!.containers[0]!.lifecycle).toEqual(hook);
    });

    it("is not added to a command of the user's, and removed when the user's command replaces ours", () => {
      const stored = admit(minimalFunction());
      const container = stored.spec!.template.spec!.containers[0]!;
      container.command = ['node', 'server.js'];
      container.lifecycle = { ...container.lifecycle, preStop: { sleep: { seconds: 5 } } };
      expect(admit(stored).spec!.template.spec!.containers[0]!.lifecycle).toEqual({
        preStop: { sleep: { seconds: 5 } },
      });
    });
  });

  describe('when the user has init containers, sidecars and volumes', () => {
    it('puts ours first in a fixed order and keeps theirs', () => {
      const deployment = minimalFunction();
      const podSpec = deployment.spec!.template.spec!;
      podSpec.initContainers = [{ name: 'migrate', image: 'example.com/migrate:1' }];
      podSpec.containers = [{ name: 'proxy', image: 'example.com/proxy:1' }];
      podSpec.volumes = [{ name: 'config', configMap: { name: 'app-config' } }];
      const admitted = admit(deployment).spec!.template.spec!;
      expect(admitted.initContainers!.map((c) => c.name)).toEqual(['cloudbase-build', 'migrate']);
      expect(admitted.containers.map((c) => c.name)).toEqual(['function', 'proxy']);
      expect(admitted.containers[1]).toEqual({ name: 'proxy', image: 'example.com/proxy:1' });
      expect(admitted.volumes!.map((v) => v.name)).toEqual([
        'config',
        'cloudbase-workspace',
        'cloudbase-source',
        'cloudbase-tmp',
      ]);
    });

    it("replaces the two build containers an earlier version injected with today's one", () => {
      const deployment = minimalFunction();
      deployment.spec!.template.spec!.initContainers = [
        { name: 'cloudbase-fetch', image: 'old', command: ['cloudbase-runtime', 'fetch'] },
        { name: 'cloudbase-install', image: 'old', command: ['cloudbase-runtime', 'install'] },
        { name: 'migrate', image: 'example.com/migrate:1' },
      ];
      const admitted = admit(deployment).spec!.template.spec!;
      expect(admitted.initContainers!.map((c) => c.name)).toEqual(['cloudbase-build', 'migrate']);
    });

    it('keeps a selector the user wrote', () => {
      const deployment = minimalFunction();
      deployment.spec!.selector = { matchLabels: { app: 'hello' } };
      expect(admit(deployment).spec!.selector).toEqual({ matchLabels: { app: 'hello' } });
    });
  });

  describe('the pod around the function', () => {
    it.each<[string, Record<string, string>, Partial<V1PodSpec>, Partial<V1PodSpec>]>([
      [
        'mounts no ServiceAccount token, with time for the drain and the default timeout',
        {},
        {},
        { automountServiceAccountToken: false, terminationGracePeriodSeconds: 40 },
      ],
      [
        'keeps a token the user asked for',
        {},
        { automountServiceAccountToken: true },
        { automountServiceAccountToken: true },
      ],
      [
        'covers a long timeout',
        { 'cloudbase.dev/timeout': '5m' },
        {},
        { terminationGracePeriodSeconds: 310 },
      ],
      [
        'keeps a longer grace period the user chose',
        {},
        { terminationGracePeriodSeconds: 120 },
        { terminationGracePeriodSeconds: 120 },
      ],
      [
        'raises the API server default of 30 s',
        {},
        { terminationGracePeriodSeconds: 30 },
        { terminationGracePeriodSeconds: 40 },
      ],
    ])('%s', (_case, annotations, given, expected) => {
      const deployment = minimalFunction(annotations);
      Object.assign(deployment.spec!.template.spec!, given);
      expect(admit(deployment).spec!.template.spec).toMatchObject(expected);
    });

    it('sizes the grace period to a drain the user set', () => {
      const deployment = minimalFunction();
      deployment.spec!.template.spec!.containers[0]!.env = [{ name: 'CLOUDBASE_DRAIN_MS', value: '20000' }];
      const podSpec = admit(deployment).spec!.template.spec!;
      expect(podSpec.terminationGracePeriodSeconds).toBe(55);
      expect(podSpec.containers[0]!.env).toContainEqual({ name: 'CLOUDBASE_DRAIN_MS', value: '20000' });
    });
  });

  describe('the claim and URL it records', () => {
    it('replaces a claim the user wrote on CREATE with one made now', () => {
      const forged = minimalFunction({
        'cloudbase.dev/claim': '2000-01-01T00:00:00.000Z hello web:*/demo/hello',
      });
      expect(admit(forged).metadata!.annotations!['cloudbase.dev/claim']).toBe(
        '2026-12-01T10:00:00.000Z hello web:*/demo/hello',
      );
    });

    it('keeps the stored claim on an UPDATE that keeps the route, whatever the request says', () => {
      const stored = admit(minimalFunction());
      const edited = structuredClone(stored);
      edited.metadata!.annotations!['cloudbase.dev/claim'] =
        '2000-01-01T00:00:00.000Z hello web:*/demo/hello';
      const later = { now: new Date('2026-12-24T00:00:00Z') };
      const { response } = mutate(admissionRequest(edited, 'UPDATE', stored), TEST_CONFIG, later);
      expect(decodePatch(response.patch)).toEqual([
        {
          op: 'replace',
          path: '/metadata/annotations/cloudbase.dev~1claim',
          value: '2026-12-01T10:00:00.000Z hello web:*/demo/hello',
        },
      ]);
    });

    it("keeps the autoscaler's replicas on an UPDATE that asks for another count", () => {
      const stored = admit(minimalFunction());
      stored.spec!.replicas = 4;
      const applied = structuredClone(stored);
      applied.spec!.replicas = 1;
      const { response } = mutate(admissionRequest(applied, 'UPDATE', stored), TEST_CONFIG, { now: NOW });
      expect(decodePatch(response.patch)).toEqual([{ op: 'replace', path: '/spec/replicas', value: 4 }]);
    });

    it('starts a new function at the replicas it asks for within its bounds', () => {
      const atZero = minimalFunction();
      atZero.spec!.replicas = 0;
      expect(admit(atZero).spec!.replicas).toBe(0);
      const tooMany = minimalFunction();
      tooMany.metadata!.annotations!['cloudbase.dev/max-scale'] = '2';
      tooMany.spec!.replicas = 5;
      expect(admit(tooMany).spec!.replicas).toBe(2);
    });

    it('writes no URL for a route the function will not get, and removes one it had', () => {
      const routes = { decide: () => ({ kind: 'not-granted' as const, problem: 'not granted' }) };
      const stored = admit(minimalFunction());
      expect(stored.metadata!.annotations!['cloudbase.dev/url']).toBe('/demo/hello');
      expect(admit(stored, { routes }).metadata!.annotations!['cloudbase.dev/url']).toBeUndefined();
    });

    it('changes nothing in a Deployment that is being deleted', () => {
      const deleting = minimalFunction({ 'cloudbase.dev/runtime': 'nope' });
      deleting.metadata!.deletionTimestamp = new Date();
      const request = admissionRequest(deleting, 'UPDATE');
      expect(mutate(request, TEST_CONFIG)).toEqual({
        response: allowedResponse(request.uid),
        decision: 'skipped',
      });
    });
  });

  describe.each(['DELETE', 'CONNECT'] as const)('when given a %s request', (operation) => {
    it('allows it before any work, without a patch', () => {
      const request = admissionRequest(null, operation);
      expect(mutate(request, TEST_CONFIG)).toEqual({
        response: { uid: request.uid, allowed: true, status: { code: 200 } },
        decision: 'skipped',
      });
    });
  });

  describe('when the Deployment has no cloudbase.dev/function annotation', () => {
    it('allows it untouched', () => {
      const deployment = minimalFunction();
      deployment.metadata!.annotations = { 'cloudbase.dev/source': 'image' };
      const request = admissionRequest(deployment);
      expect(mutate(request, TEST_CONFIG).response).toEqual({
        uid: request.uid,
        allowed: true,
        status: { code: 200 },
      });
    });
  });

  describe('when the annotations are wrong', () => {
    it('denies with the contract message and no patch', () => {
      const request = admissionRequest(minimalFunction({ 'cloudbase.dev/runtime': 'ruby' }));
      expect(mutate(request, TEST_CONFIG)).toEqual({
        response: {
          uid: request.uid,
          allowed: false,
          status: {
            code: 403,
            reason: 'Forbidden',
            message:
              'cloudbase.dev/runtime="ruby" is not a supported runtime; use one of nodejs22, nodejs20, nodejs24',
          },
        },
        decision: 'denied',
      });
    });
  });

  describe('when the review is for another kind', () => {
    it('answers 400 naming the kind', () => {
      const request = {
        ...admissionRequest(minimalFunction()),
        kind: { group: '', version: 'v1', kind: 'Pod' },
      };
      expect(mutate(request, TEST_CONFIG).response).toEqual({
        uid: request.uid,
        allowed: false,
        status: {
          code: 400,
          reason: 'BadRequest',
          message:
            "cloudbase webhooks handle apps/v1 Deployments, not v1 Pod; check the webhook configuration's rules",
        },
      });
    });
  });
});

function allowedResponse(uid: string) {
  return { uid, allowed: true, status: { code: 200 } };
}
