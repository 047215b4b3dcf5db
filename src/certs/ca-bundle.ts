import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER, isNotFound, type Kube } from '../kube/client.js';
import { splitPemBundle } from './rotation.js';

/**
 * The `caBundle` of Cloudbase's two webhook configurations (mutating and validating, one name): the API server
 * trusts exactly these CAs when it calls the webhooks.
 * https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#contacting-the-webhook
 */
export interface WebhookConfigurationBundles {
  /** Per configuration that exists, the CAs of each of its webhooks. */
  bundles: string[][];
  /** Configurations found, as `Kind/name`. */
  found: string[];
}

const KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const;
type Kind = (typeof KINDS)[number];

interface WebhookConfiguration extends KubernetesObject {
  webhooks?: { name: string; clientConfig: { caBundle?: string } }[];
}

export async function readWebhookBundles(kube: Kube, name: string): Promise<WebhookConfigurationBundles> {
  const result: WebhookConfigurationBundles = { bundles: [], found: [] };
  for (const kind of KINDS) {
    const config = await readConfiguration(kube, kind, name);
    if (config === undefined) continue;
    result.found.push(`${kind}/${name}`);
    for (const webhook of config.webhooks ?? []) {
      const pem = Buffer.from(webhook.clientConfig.caBundle ?? '', 'base64').toString('utf8');
      result.bundles.push(splitPemBundle(pem));
    }
  }
  return result;
}

/**
 * Sets `caBundle` of every webhook of both configurations. A strategic merge patch keyed by webhook name
 * touches that one field, so `kubectl apply` of the configurations (which never sets it) and our write do
 * not undo each other. Returns the configurations written.
 */
export async function writeWebhookBundles(
  kube: Kube,
  name: string,
  bundle: readonly string[],
): Promise<string[]> {
  const caBundle = Buffer.from(bundle.join('')).toString('base64');
  const written: string[] = [];
  for (const kind of KINDS) {
    const config = await readConfiguration(kube, kind, name);
    if (config === undefined) continue;
    const patch: WebhookConfiguration = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind,
      metadata: { name },
      webhooks: (config.webhooks ?? []).map((webhook) => ({
        name: webhook.name,
        clientConfig: { caBundle },
      })),
    };
    await kube.objects.patch(
      patch,
      undefined,
      undefined,
      FIELD_MANAGER,
      undefined,
      PatchStrategy.StrategicMergePatch,
    );
    written.push(`${kind}/${name}`);
  }
  return written;
}

async function readConfiguration(
  kube: Kube,
  kind: Kind,
  name: string,
): Promise<WebhookConfiguration | undefined> {
  try {
    return kind === 'MutatingWebhookConfiguration'
      ? await kube.admission.readMutatingWebhookConfiguration({ name })
      : await kube.admission.readValidatingWebhookConfiguration({ name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
