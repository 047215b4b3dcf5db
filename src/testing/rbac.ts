/** One resource and the verbs allowed on it, as `kubectl auth can-i --list` or the README's RBAC table say. */
export interface Permission {
  /** `resource.group`, or `resource` for the core group, as kubectl prints it. */
  resource: string;
  verbs: string[];
}

/**
 * Rules every authenticated user has (discovery, self reviews): part of any `can-i --list`, not granted by
 * Cloudbase's roles. https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings
 */
const GRANTED_TO_EVERYONE = new Set([
  'selfsubjectreviews.authentication.k8s.io',
  'selfsubjectaccessreviews.authorization.k8s.io',
  'selfsubjectrulesreviews.authorization.k8s.io',
]);

/**
 * Parses `kubectl auth can-i --list` output: a table `Resources  Non-Resource URLs  Resource Names  Verbs`.
 * Non-resource URL rows (/api, /healthz, ...) are the discovery everyone has and are left out.
 */
export function canIRules(output: string): Permission[] {
  return output
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .flatMap((line) => {
      const verbs = /\[([^\]]*)\]\s*$/.exec(line)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
      const resource = line.split(/\s+/)[0] ?? '';
      if (resource.startsWith('[') || resource.startsWith('/') || GRANTED_TO_EVERYONE.has(resource))
        return [];
      return [{ resource, verbs }];
    });
}

/**
 * Reads the README's RBAC table: rows `| resource | verbs | ...` where the resource is in backticks as kubectl
 * prints it (`deployments.apps`, `services`) and the verbs are comma-separated, possibly in backticks.
 */
export function readRbacTable(readme: string): Permission[] {
  const section = readme.slice(readme.indexOf('<!-- rbac -->'), readme.indexOf('<!-- /rbac -->'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [resource = '', verbs = ''] = line
        .split('|')
        .slice(1)
        .map((cell) => cell.trim().replace(/`/g, ''));
      return { resource, verbs: verbs.split(/[,;\s]+/).filter(Boolean) };
    });
}
