import { contractOf } from './contract-of.js';
import type { AdmissionFacts } from './inject/config.js';
import type { AdmissionRequest } from './review.js';
import type { RouteOwnership } from '../routing/table.js';

/** Reads the keys of a ConfigMap, or undefined when it cannot (missing, forbidden, too slow). */
export type ConfigMapKeysLookup = (namespace: string, name: string) => Promise<readonly string[] | undefined>;

/**
 * What the mutating webhook reads before it decides: the time, the route table when it has one, and the keys
 * of a `configmap:` source, so a ConfigMap that needs no build is mounted as the workspace
 * (inject/source-layout.ts). Never throws: a
 * review it cannot read is left to mutate() to answer, and a lookup that fails leaves the fact out.
 */
export async function readAdmissionFacts(
  request: AdmissionRequest,
  configMapKeys: ConfigMapKeysLookup | undefined,
  routes?: RouteOwnership,
): Promise<AdmissionFacts> {
  const known: AdmissionFacts = { now: new Date(), ...(routes === undefined ? {} : { routes }) };
  return { ...known, ...(await readConfigMapFacts(request, configMapKeys)) };
}

async function readConfigMapFacts(
  request: AdmissionRequest,
  configMapKeys: ConfigMapKeysLookup | undefined,
): Promise<AdmissionFacts> {
  if (configMapKeys === undefined) return {};
  let contract;
  try {
    contract = contractOf(request);
  } catch {
    return {};
  }
  if (contract === undefined || !contract.ok || contract.spec.source.kind !== 'configmap') return {};
  const keys = await configMapKeys(contract.spec.namespace, contract.spec.source.configMapName).catch(
    () => undefined,
  );
  return keys === undefined ? {} : { configMapKeys: keys };
}
