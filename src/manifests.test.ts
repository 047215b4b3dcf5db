import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import {
  AdmissionregistrationV1WebhookClientConfig,
  loadAllYaml,
  V1MutatingWebhook,
  V1ValidatingWebhook,
  type V1ClusterRole,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { Annotation } from './contract/annotations.js';

interface WebhookConfiguration {
  kind: string;
  webhooks: (V1MutatingWebhook | V1ValidatingWebhook)[];
}

function loadAll(path: string): unknown[] {
  return loadAllYaml(readFileSync(new URL(`../manifests/${path}`, import.meta.url), 'utf8')) as unknown[];
}

function load(path: string): WebhookConfiguration {
  return loadAll(path)[0] as WebhookConfiguration;
}

describe.each([
  ['base/webhooks/mutating.yaml', 'MutatingWebhookConfiguration', '/mutate'],
  ['base/webhooks/validating.yaml', 'ValidatingWebhookConfiguration', '/validate'],
])('%s', (path, kind, servedPath) => {
  const configuration = load(path);
  const [webhook] = configuration.webhooks;

  it(`is a ${kind} with one webhook calling ${servedPath}, which the server serves`, () => {
    expect(configuration.kind).toBe(kind);
    expect(configuration.webhooks).toHaveLength(1);
    expect(webhook!.clientConfig.service).toMatchObject({
      name: 'cloudbase-webhook',
      namespace: 'cloudbase-system',
      path: servedPath,
    });
  });

  it('matches on the opt-in annotation, by name', () => {
    expect(webhook!.matchConditions?.[0]?.expression).toContain(
      `'${Annotation.function}' in object.metadata.annotations`,
    );
  });

  it('excludes kube-system and its own namespace, has no side effects, fails closed fast', () => {
    expect(webhook!.namespaceSelector?.matchExpressions).toEqual([
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'cloudbase-system'] },
    ]);
    expect(webhook!.sideEffects).toBe('None');
    expect(webhook!.failurePolicy).toBe('Fail');
    expect(webhook!.timeoutSeconds).toBeLessThanOrEqual(5);
    expect(webhook!.admissionReviewVersions).toEqual(['v1']);
  });

  it('covers CREATE and UPDATE of apps/v1 deployments only', () => {
    expect(webhook!.rules).toEqual([
      {
        apiGroups: ['apps'],
        apiVersions: ['v1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['deployments'],
        scope: 'Namespaced',
      },
    ]);
  });
});

describe('base/kustomization.yaml', () => {
  it('installs every manifest in base/ (a file it does not list is never applied)', () => {
    const { resources } = loadAll('base/kustomization.yaml')[0] as { resources: string[] };
    const files = readdirSync(new URL('../manifests/base/', import.meta.url), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...resources].sort()).toEqual(files.sort());
  });
});

describe('base/webhook-configurations-policy.yaml', () => {
  const [policy, binding] = loadAll('base/webhook-configurations-policy.yaml') as [
    V1ValidatingAdmissionPolicy,
    V1ValidatingAdmissionPolicyBinding,
  ];
  const spec = policy.spec!;
  const variable = (name: string): string => spec.variables!.find((v) => v.name === name)!.expression;

  it('guards updates of exactly the configurations the ServiceAccount may patch (rbac.yaml)', () => {
    const clusterRole = loadAll('base/rbac.yaml').find(
      (document) => (document as { kind: string }).kind === 'ClusterRole',
    ) as V1ClusterRole;
    const patchable = clusterRole.rules!.find((rule) =>
      rule.apiGroups?.includes('admissionregistration.k8s.io'),
    )!;
    expect(spec.matchConstraints?.resourceRules).toEqual([
      {
        apiGroups: ['admissionregistration.k8s.io'],
        apiVersions: ['v1'],
        operations: ['UPDATE'],
        resources: patchable.resources,
        resourceNames: patchable.resourceNames,
      },
    ]);
    const names = ['mutating', 'validating'].map(
      (file) => (loadAll(`base/webhooks/${file}.yaml`)[0] as { metadata: { name: string } }).metadata.name,
    );
    expect(new Set(names)).toEqual(new Set(patchable.resourceNames));
  });

  it("applies to the requests of the ServiceAccount Cloudbase's pods run as, only", () => {
    const account = loadAll('base/rbac.yaml').find(
      (document) => (document as { kind: string }).kind === 'ServiceAccount',
    ) as { metadata: { name: string; namespace: string } };
    const deployment = loadAll('base/deployment.yaml')[0] as {
      spec: { template: { spec: { serviceAccountName: string } } };
    };
    expect(deployment.spec.template.spec.serviceAccountName).toBe(account.metadata.name);
    const username = `system:serviceaccount:${account.metadata.namespace}:${account.metadata.name}`;
    expect(spec.matchConditions).toEqual([
      { name: 'is-cloudbase-service-account', expression: `request.userInfo.username == '${username}'` },
    ]);
  });

  it('is enforced: bound with Deny, and fails closed', () => {
    expect(spec.failurePolicy).toBe('Fail');
    expect(binding).toMatchObject({
      kind: 'ValidatingAdmissionPolicyBinding',
      spec: { policyName: policy.metadata!.name, validationActions: ['Deny'] },
    });
    expect(binding.spec?.matchResources).toBeUndefined();
  });

  // The client library's models list every field of the API version it was generated from: a field a newer
  // Kubernetes adds fails this test until the policy compares it too.
  it('compares every field of a webhook but clientConfig.caBundle', () => {
    const compared = variable('onlyCaBundleChanged');
    const fields = new Set(
      [...V1MutatingWebhook.getAttributeTypeMap(), ...V1ValidatingWebhook.getAttributeTypeMap()].map(
        (attribute) => attribute.baseName,
      ),
    );
    fields.delete('clientConfig');
    fields.delete('name');
    for (const field of fields) expect(compared).toMatch(new RegExp(`\\b(w|dyn\\(w\\))\\.\\?${field} ==`));
    expect(compared).toContain('o.name == w.name');
    for (const { baseName } of AdmissionregistrationV1WebhookClientConfig.getAttributeTypeMap()) {
      if (baseName === 'caBundle') expect(compared).not.toContain('caBundle');
      else expect(compared).toContain(`w.clientConfig.?${baseName} == o.clientConfig.?${baseName}`);
    }
  });

  it('says what the ServiceAccount may change in every refusal', () => {
    for (const validation of spec.validations!) {
      expect(validation.reason).toBe('Forbidden');
      expect(validation.message).toContain('webhooks[*].clientConfig.caBundle');
    }
  });
});

describe('examples/hello', () => {
  const [, deployment] = loadAllYaml(
    readFileSync(new URL('../examples/hello/function.yaml', import.meta.url), 'utf8'),
  ) as unknown[];
  const review = JSON.parse(
    readFileSync(new URL('../examples/hello/admission-review.json', import.meta.url), 'utf8'),
  ) as { request: { object: unknown } };

  it('ships an AdmissionReview of exactly the example Deployment, for curl', () => {
    expect(review.request.object).toEqual(JSON.parse(JSON.stringify(deployment)));
  });
});
