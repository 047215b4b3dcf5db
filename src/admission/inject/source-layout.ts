import type { FunctionSpec } from '../../contract/function-spec.js';
import { buildReason } from '../../contract/source-files.js';

/**
 * How a function's code reaches the runtime:
 * - `image`: it is in the function container's image; nothing to mount.
 * - `build`: the `cloudbase-build` init container fetches it into an emptyDir workspace and installs its
 *   dependencies (an https tarball, a ConfigMap with a lockfile or nested paths, or one the webhook could
 *   not read).
 * - `mounted`: a ConfigMap that is already a workspace (plain file names, no lockfile) is mounted read-only
 *   as the workspace, with no init container.
 */
export type SourceLayout = 'image' | 'build' | 'mounted';

/**
 * Chooses the layout. `configMapKeys` are the keys of the source ConfigMap as the webhook read them at
 * admission, or undefined when it could not (not created yet, no permission, API slow): then the build step
 * runs, which works for every ConfigMap and reports a missing one clearly.
 */
export function sourceLayout(spec: FunctionSpec, configMapKeys: readonly string[] | undefined): SourceLayout {
  switch (spec.source.kind) {
    case 'image':
      return 'image';
    case 'https':
      return 'build';
    case 'configmap':
      return configMapKeys === undefined || buildReason(configMapKeys) !== undefined ? 'build' : 'mounted';
  }
}
