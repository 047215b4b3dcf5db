// Registers manifests/' webhook configurations with the local cluster, pointed at a Cloudbase running on
// the host (https://CLUSTER_HOST_IP:PORT) instead of the in-cluster Service, with the CA from `cloudbase
// certs` as caBundle. Used by hack/up.sh until Cloudbase installs itself in the cluster.
//   node hack/register-webhooks.mjs KUBECONFIG URL CA_FILE
import { readFileSync } from 'node:fs';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, loadAllYaml } from '@kubernetes/client-node';

const [kubeconfig, url, caFile] = process.argv.slice(2);
if (!kubeconfig || !url || !caFile) {
  console.error('usage: node hack/register-webhooks.mjs KUBECONFIG URL CA_FILE');
  process.exit(2);
}
const config = new KubeConfig();
config.loadFromFile(kubeconfig);
const objects = KubernetesObjectApi.makeApiClient(config);
const caBundle = Buffer.from(readFileSync(caFile)).toString('base64');
for (const file of ['mutating', 'validating']) {
  const [configuration] = loadAllYaml(
    readFileSync(new URL(`../manifests/webhooks/${file}.yaml`, import.meta.url), 'utf8'),
  );
  for (const webhook of configuration.webhooks) {
    webhook.clientConfig = { url: `${url}${webhook.clientConfig.service.path}`, caBundle };
  }
  await objects.patch(
    configuration,
    undefined,
    undefined,
    'cloudbase-dev',
    true,
    PatchStrategy.ServerSideApply,
  );
  console.log(`${configuration.kind} ${configuration.metadata.name} -> ${url}`);
}
