import type { V1Secret } from '@kubernetes/client-node';
import { isNotFound, type Kube } from '../kube/client.js';
import type { KeyPairPem } from './key-pair.js';
import { splitPemBundle, type StoredCertificates } from './rotation.js';

/** Where self-managed certificates live: two Secrets in Cloudbase's namespace. */
export interface CertificateSecretNames {
  namespace: string;
  /** The CA: `tls.crt`, `tls.key`, and `ca-bundle.crt`, every CA still trusted. */
  ca: string;
  /** The serving certificate every replica serves: `tls.crt`, `tls.key`, `ca.crt`. */
  tls: string;
}

const TRUSTED_KEY = 'ca-bundle.crt';

/** The Secrets as read, with the resourceVersion each write must match (nobody else wrote in between). */
export interface StoredSecrets {
  certificates: StoredCertificates;
  versions: { ca: string | undefined; tls: string | undefined };
}

export async function readCertificateSecrets(
  kube: Kube,
  names: CertificateSecretNames,
): Promise<StoredSecrets> {
  const [ca, tls] = await Promise.all([
    readSecret(kube, names.namespace, names.ca),
    readSecret(kube, names.namespace, names.tls),
  ]);
  const caPair = pairOf(ca);
  const certificates: StoredCertificates = {};
  if (caPair !== undefined) {
    certificates.authority = {
      pair: caPair,
      trusted: splitPemBundle(field(ca, TRUSTED_KEY) ?? caPair.certPem),
    };
  }
  const serving = pairOf(tls);
  if (serving !== undefined) certificates.serving = serving;
  return {
    certificates,
    versions: { ca: ca?.metadata?.resourceVersion, tls: tls?.metadata?.resourceVersion },
  };
}

/** Reads the serving pair only: what every replica polls. */
export async function readServingSecret(
  kube: Kube,
  names: CertificateSecretNames,
): Promise<KeyPairPem | undefined> {
  return pairOf(await readSecret(kube, names.namespace, names.tls));
}

export async function writeAuthoritySecret(
  kube: Kube,
  names: CertificateSecretNames,
  pair: KeyPairPem,
  trusted: readonly string[],
  resourceVersion: string | undefined,
): Promise<void> {
  await writeSecret(kube, names.namespace, names.ca, resourceVersion, {
    'tls.crt': pair.certPem,
    'tls.key': pair.keyPem,
    [TRUSTED_KEY]: trusted.join(''),
  });
}

export async function writeServingSecret(
  kube: Kube,
  names: CertificateSecretNames,
  pair: KeyPairPem,
  caPem: string,
  resourceVersion: string | undefined,
): Promise<void> {
  await writeSecret(kube, names.namespace, names.tls, resourceVersion, {
    'tls.crt': pair.certPem,
    'tls.key': pair.keyPem,
    'ca.crt': caPem,
  });
}

async function readSecret(kube: Kube, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await kube.core.readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Creates the Secret, or replaces it at the resourceVersion it was read at: two leaders (a lease that just
 * moved) cannot both write, the second gets a 409 and reads again.
 */
async function writeSecret(
  kube: Kube,
  namespace: string,
  name: string,
  resourceVersion: string | undefined,
  data: Record<string, string>,
): Promise<void> {
  const body: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name,
      namespace,
      labels: {
        'app.kubernetes.io/name': 'cloudbase',
        'app.kubernetes.io/component': 'webhook-certificates',
      },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    data: Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
  };
  if (resourceVersion === undefined) await kube.core.createNamespacedSecret({ namespace, body });
  else await kube.core.replaceNamespacedSecret({ name, namespace, body });
}

function pairOf(secret: V1Secret | undefined): KeyPairPem | undefined {
  const certPem = field(secret, 'tls.crt');
  const keyPem = field(secret, 'tls.key');
  return certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
}

function field(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}
