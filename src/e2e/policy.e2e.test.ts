import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  loadAllYaml,
  type KubernetesObject,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { generateCertificateAuthority } from '../certs/authority.js';
import { deleteIfExists, type Kube } from '../kube/client.js';
import {
  clusterEnv,
  clusterKube,
  eventually,
  kubectl,
  testNamespace,
  type ClusterEnv,
  type KubectlResult,
} from '../testing/cluster.js';
import { webhookConfigurationsAt } from '../testing/webhook-configurations.js';

// The ValidatingAdmissionPolicy of manifests/base/webhook-configurations-policy.yaml, enforced by the real
// kube-apiserver. The installed policy guards the configurations named `cloudbase`, which other tests install
// and rewrite; this test copies it under its own name, narrowed to a pair of configurations of its own (the
// install's webhooks, pointed nowhere and matching a namespace that does not exist, so the API server never
// calls them), and grants Cloudbase's ServiceAccount the get and patch that rbac.yaml grants it on `cloudbase`.
// Then it acts as that ServiceAccount (kubectl --as, allowed by the admin kubeconfig).

const SERVICE_ACCOUNT = 'system:serviceaccount:cloudbase-system:cloudbase';
const KINDS: [kind: string, webhook: string][] = [
  ['mutatingwebhookconfiguration', 'mutate.functions.cloudbase.dev'],
  ['validatingwebhookconfiguration', 'validate.functions.cloudbase.dev'],
];

interface StoredConfiguration {
  webhooks: { clientConfig: { caBundle?: string }; rules: unknown }[];
}

const manifest = loadAllYaml(
  readFileSync(new URL('../../manifests/base/webhook-configurations-policy.yaml', import.meta.url), 'utf8'),
) as [V1ValidatingAdmissionPolicy, V1ValidatingAdmissionPolicyBinding];
const [installedPolicy] = manifest;
const onlyCaBundle = installedPolicy.spec!.validations![1]!.message!;
const noLabels = installedPolicy.spec!.validations![2]!.message!;

/** The install's policy and binding, renamed to `name` and guarding the configurations named `name`. */
function policyFor(name: string): KubernetesObject[] {
  const [policy, binding] = structuredClone(manifest);
  policy.metadata = { name };
  policy.spec!.matchConstraints!.resourceRules![0]!.resourceNames = [name];
  binding.metadata = { name };
  binding.spec!.policyName = name;
  return [policy, binding];
}

/** What rbac.yaml grants the ServiceAccount on `cloudbase`, on the configurations named `name`. */
function rbacFor(name: string): KubernetesObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
          resourceNames: [name],
          verbs: ['get', 'patch'],
        },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: 'cloudbase', namespace: 'cloudbase-system' }],
    } as KubernetesObject,
  ];
}

function caBundleOf(pem: string): string {
  return Buffer.from(pem).toString('base64');
}

describe('the webhook configurations policy, enforced by the real kube-apiserver', () => {
  let env: ClusterEnv;
  let kube: Kube;
  const name = testNamespace('e2e-policy');
  const created: KubernetesObject[] = [];
  const otherCa = generateCertificateAuthority({
    commonName: 'e2e-policy-other-ca',
    validityDays: 1,
  }).certPem;

  /** `kubectl patch` of one of the test's configurations, as Cloudbase's ServiceAccount unless told. */
  const patch = (
    kind: string,
    type: 'json' | 'strategic',
    body: unknown,
    as = SERVICE_ACCOUNT,
    dryRun = false,
  ) =>
    kubectl(
      [
        ...(as === '' ? [] : [`--as=${as}`]),
        'patch',
        kind,
        name,
        `--type=${type}`,
        '-p',
        JSON.stringify(body),
        ...(dryRun ? ['--dry-run=server'] : []),
      ],
      undefined,
      env,
    );
  const changeRules = (kind: string, as?: string, dryRun?: boolean): Promise<KubectlResult> =>
    patch(
      kind,
      'json',
      [{ op: 'replace', path: '/webhooks/0/rules/0/operations', value: ['CREATE'] }],
      as,
      dryRun,
    );
  const read = async (kind: string): Promise<StoredConfiguration> =>
    JSON.parse(
      (await kubectl(['get', kind, name, '-o', 'json'], undefined, env)).stdout,
    ) as StoredConfiguration;

  beforeAll(async () => {
    env = clusterEnv();
    kube = clusterKube(env);
    const configurations = webhookConfigurationsAt({
      name,
      // A namespace that is never created: nothing is ever sent to the (unreachable) URL.
      namespaces: [`${name}-none`],
      url: 'https://127.0.0.1:1',
      ca: generateCertificateAuthority({ commonName: 'e2e-policy-ca', validityDays: 1 }).certPem,
    });
    for (const object of [...configurations, ...policyFor(name), ...rbacFor(name)]) {
      await kube.objects.create(object);
      created.push(object);
    }
    // The API server loads policies, bindings and RBAC asynchronously: wait until a dry run of a forbidden
    // change is refused by the policy (not by RBAC, and not let through).
    for (const [kind] of KINDS) {
      await eventually(`the policy to refuse a change of ${kind} rules`, async () => {
        const result = await changeRules(kind, SERVICE_ACCOUNT, true);
        return result.code !== 0 && result.stderr.includes(onlyCaBundle) ? true : undefined;
      });
    }
  }, 120_000);

  afterAll(async () => {
    for (const object of created.reverse()) await deleteIfExists(kube, object);
  });

  it('type-checks against the webhook configurations schema without a warning', async () => {
    // kube-controller-manager's policy status controller type-checks each expression and reports here.
    const status = await eventually('the policy status (type checking)', async () => {
      const result = await kubectl(['get', 'validatingadmissionpolicy', name, '-o', 'json'], undefined, env);
      const policy = JSON.parse(result.stdout) as V1ValidatingAdmissionPolicy;
      return policy.status?.observedGeneration === policy.metadata?.generation ? policy.status : undefined;
    });
    expect(status.typeChecking?.expressionWarnings ?? []).toEqual([]);
  });

  it.each(KINDS)(
    'refuses the ServiceAccount a change of the %s rules, with the policy message',
    async (kind) => {
      const before = await read(kind);
      const result = await changeRules(kind);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(onlyCaBundle);
      expect((await read(kind)).webhooks[0]!.rules).toEqual(before.webhooks[0]!.rules);
    },
  );

  it.each(KINDS)(
    'lets the ServiceAccount write the caBundle of the %s as Cloudbase does (strategic merge by webhook name)',
    async (kind, webhook) => {
      const caBundle = caBundleOf(otherCa);
      const result = await patch(kind, 'strategic', {
        webhooks: [{ name: webhook, clientConfig: { caBundle } }],
      });
      expect(result).toMatchObject({ code: 0 });
      expect((await read(kind)).webhooks[0]!.clientConfig.caBundle).toBe(caBundle);
    },
  );

  it('refuses the ServiceAccount a change of the labels', async () => {
    const result = await patch('mutatingwebhookconfiguration', 'strategic', {
      metadata: { labels: { x: 'y' } },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(noLabels);
  });

  it('refuses the ServiceAccount a caBundle change that comes with any other change', async () => {
    const result = await patch('validatingwebhookconfiguration', 'json', [
      { op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: caBundleOf(otherCa) },
      { op: 'replace', path: '/webhooks/0/failurePolicy', value: 'Ignore' },
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(onlyCaBundle);
  });

  it('lets an administrator change the rules: the policy binds only the ServiceAccount', async () => {
    const result = await changeRules('mutatingwebhookconfiguration', '');
    expect(result).toMatchObject({ code: 0 });
  });
});
