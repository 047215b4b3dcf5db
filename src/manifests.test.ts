import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import type { V1MutatingWebhook, V1ValidatingWebhook } from '@kubernetes/client-node';
import { Annotation } from './contract/annotations.js';

interface WebhookConfiguration {
  kind: string;
  webhooks: (V1MutatingWebhook | V1ValidatingWebhook)[];
}

function load(path: string): WebhookConfiguration {
  const [document] = loadAllYaml(
    readFileSync(new URL(`../manifests/${path}`, import.meta.url), 'utf8'),
  ) as WebhookConfiguration[];
  return document!;
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
