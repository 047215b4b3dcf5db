/** One adapter per signature; `serve` picks by `CLOUDBASE_SIGNATURE`. */
import type { Signature } from '../../contract/function-spec.js';
import { fetchAdapter } from './fetch.js';
import { fissionAdapter } from './fission.js';
import { knativeAdapter } from './knative.js';
import { kubelessAdapter } from './kubeless.js';
import { openfaasAdapter } from './openfaas.js';
import type { SignatureAdapter } from './types.js';

export type { SignatureAdapter } from './types.js';

export const ADAPTERS: Readonly<Record<Signature, SignatureAdapter>> = {
  fetch: fetchAdapter,
  openfaas: openfaasAdapter,
  fission: fissionAdapter,
  kubeless: kubelessAdapter,
  knative: knativeAdapter,
};
