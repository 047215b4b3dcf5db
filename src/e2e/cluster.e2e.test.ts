import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import {
  clusterEnv,
  type ClusterEnv,
  clusterKube,
  eventually,
  kubectl,
  removeNamespace,
  testNamespace,
} from '../testing/cluster.js';
import type { Kube } from '../kube/client.js';

const run = promisify(execFile);

// The local cluster itself: a Ready node, a pod of a locally built image with a pod IP, a ClusterIP Service
// that kube-proxy serves inside the node's network namespace, and Traefik routing an IngressRoute to it.

const NODE_IMAGE = 'registry.local/cloudbase/node:22.23.3';

describe('the local cluster', () => {
  let env: ClusterEnv;
  let kube: Kube;
  const namespace = testNamespace('e2e-cluster');

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    await removeNamespace(namespace);
  }, 300_000);

  it('has a Ready node running the upstream release', async () => {
    const nodes = await kube.core.listNode();
    expect(nodes.items).toHaveLength(1);
    const node = nodes.items[0]!;
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status?.nodeInfo?.kubeletVersion).toMatch(/^v1\.3[45]\./);
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\//);
  });

  it('runs a pod of a locally built image, reachable by ClusterIP and through Traefik', async () => {
    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo, namespace: ${namespace} }
spec:
  replicas: 1
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      containers:
        - name: echo
          image: ${NODE_IMAGE}
          imagePullPolicy: IfNotPresent
          command: [node, -e, "require('http').createServer((q, s) => s.end('echo ' + q.url)).listen(8080)"]
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ${namespace} }
spec: { selector: { app: echo }, ports: [{ name: http, port: 80, targetPort: http }] }
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: { name: echo, namespace: ${namespace} }
spec:
  entryPoints: [web]
  routes:
    - match: PathPrefix(\`/${namespace}/echo\`)
      kind: Rule
      services: [{ name: echo, port: 80 }]
`;
    expect(await kubectl(['apply', '-f', '-'], manifest, env)).toMatchObject({ code: 0 });
    const pod = await eventually(
      'the pod to be Running and ready with an IP',
      async () => {
        const pods = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=echo' });
        return pods.items.find(
          (p: V1Pod) =>
            p.status?.phase === 'Running' &&
            p.status.podIP &&
            p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
      },
      120_000,
      500,
    );
    expect(pod.status?.podIP).toMatch(/^10\.204\./);

    const service = await kube.core.readNamespacedService({ name: 'echo', namespace });
    // ClusterIPs are kube-proxy's iptables rules inside the node's network namespace: ask from there.
    // kube-proxy programs the Service's endpoints a moment after the pod turns ready.
    const stdout = await eventually(
      'the ClusterIP to answer inside the node namespace',
      async () => {
        const netns = `--net=/run/netns/${env.netns}`;
        const url = `http://${service.spec?.clusterIP}/via-cluster-ip`;
        return (await run('nsenter', [netns, 'curl', '-sS', '--max-time', '5', url])).stdout;
      },
      30_000,
      500,
    );
    expect(stdout).toBe('echo /via-cluster-ip');

    const body = await eventually(
      'Traefik to route to the pod',
      async () => {
        const response = await fetch(`${env.traefikUrl}/${namespace}/echo/x`);
        return response.status === 200 ? response.text() : undefined;
      },
      60_000,
      500,
    );
    expect(body).toBe(`echo /${namespace}/echo/x`);
  });

  /** Runs `script` in a pod of the node image to completion and gives its log. */
  async function runPod(name: string, script: string, volumes = ''): Promise<string> {
    const manifest = `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: ${NODE_IMAGE}
      imagePullPolicy: IfNotPresent
      command: [sh, -c, ${JSON.stringify(script)}]
${volumes}`;
    expect(await kubectl(['apply', '-f', '-'], manifest, env)).toMatchObject({ code: 0 });
    await eventually(
      `pod ${name} to finish`,
      async () => {
        const pod = await kube.core.readNamespacedPod({ name, namespace });
        return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? true : undefined;
      },
      120_000,
      500,
    );
    return (await kubectl(['-n', namespace, 'logs', name], '', env)).stdout;
  }

  it('resolves Service names through cluster DNS (CoreDNS), and fails a name outside the cluster at once', async () => {
    const out = await runPod(
      'dns',
      `node -e "const d=require('dns').promises; d.lookup('kubernetes.default.svc').then(a=>console.log('kubernetes', a.address)); const t=Date.now(); d.lookup('registry.npmjs.org').then(a=>console.log('outside', a.address), e=>console.log('outside', e.code, Date.now()-t < 3000 ? 'fast' : 'slow'))"`,
    );
    expect(out).toContain('kubernetes 10.205.0.1');
    expect(out).toMatch(/outside (ENOTFOUND|EAI_AGAIN|ESERVFAIL) fast/);
  });

  it('binds a claim of the default storage class, whose data outlives the pod that wrote it', async () => {
    const claim = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data, namespace: ${namespace} }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 16Mi } } }
`;
    expect(await kubectl(['apply', '-f', '-'], claim, env)).toMatchObject({ code: 0 });
    const volumes = `      volumeMounts: [{ name: data, mountPath: /data }]
  volumes: [{ name: data, persistentVolumeClaim: { claimName: data } }]`;
    await runPod('writer', 'echo kept > /data/file', volumes);
    expect(await runPod('reader', 'cat /data/file', volumes)).toBe('kept\n');
    const bound = await kube.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace });
    expect(bound.status?.phase).toBe('Bound');
    expect(bound.spec?.storageClassName).toBe('local-path');
  });

  it('gives every Traefik replica the default certificate from its TLSStore', async () => {
    // Without one, Traefik generates a new key pair at every configuration rebuild (traefik/traefik#7831).
    // Traefik lists its default certificate in its metrics; a replica that did not load the TLSStore's
    // Secret would list only a certificate of its own making.
    const secret = await kube.core.readNamespacedSecret({
      name: 'traefik-default-certificate',
      namespace: 'traefik',
    });
    const certificate = new X509Certificate(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64'));
    const serial = BigInt(`0x${certificate.serialNumber}`).toString();
    const pods = await kube.core.listNamespacedPod({
      namespace: 'traefik',
      labelSelector: 'app.kubernetes.io/name=traefik',
      fieldSelector: 'status.phase=Running',
    });
    expect(pods.items.length).toBeGreaterThanOrEqual(2);
    for (const pod of pods.items) {
      const metrics = await kube.core.connectGetNamespacedPodProxyWithPath({
        name: `${pod.metadata?.name ?? ''}:9000`,
        namespace: 'traefik',
        path: 'metrics',
      });
      expect(metrics).toContain(
        `cn="${certificate.subject.replace(/^CN=/, '')}",sans="traefik.invalid",serial="${serial}"`,
      );
    }
  });

  it('answers 404 through Traefik for a path no route matches', async () => {
    expect((await fetch(`${env.traefikUrl}/no-such-route-${namespace}`)).status).toBe(404);
  });
});
