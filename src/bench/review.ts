import type { V1Deployment } from '@kubernetes/client-node';

/**
 * A review as the API server sends one for `kubectl apply` of a typical function: a CREATE of a Deployment
 * with the user's annotations, labels, a sidecar and the fields the API server defaults.
 */
export function realisticReview(): unknown {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'orders-api',
      namespace: 'shop',
      labels: { app: 'orders-api', team: 'checkout' },
      annotations: {
        'cloudbase.dev/function': 'true',
        'cloudbase.dev/runtime': 'nodejs22',
        'cloudbase.dev/source': 'configmap:orders-api-code',
        'cloudbase.dev/handler': 'src/index.js#handler',
        'cloudbase.dev/route': '/api/orders',
        'cloudbase.dev/host': 'shop.example.com',
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          kind: 'Deployment',
          note: 'x'.repeat(1500),
        }),
      },
    },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'orders-api', team: 'checkout' } },
        spec: {
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          schedulerName: 'default-scheduler',
          securityContext: {},
          containers: [
            {
              name: 'function',
              env: [
                { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'url' } } },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
            },
            {
              name: 'otel-agent',
              image: 'otel/opentelemetry-collector:0.100.0',
              ports: [{ name: 'otlp', containerPort: 4317, protocol: 'TCP' }],
              resources: { requests: { cpu: '10m', memory: '32Mi' } },
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
        },
      },
    },
  } as unknown as V1Deployment;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name: 'orders-api',
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'jane@example.com', groups: ['system:authenticated'] },
      object: deployment,
      oldObject: null,
      dryRun: false,
      options: {
        kind: 'CreateOptions',
        apiVersion: 'meta.k8s.io/v1',
        fieldManager: 'kubectl-client-side-apply',
      },
    },
  };
}
