import { describe, expect, it } from '@jest/globals';
import { canIRules, readRbacTable } from './rbac.js';

describe('canIRules', () => {
  it('reads resources and verbs, leaving out non-resource URLs and what everyone may do', () => {
    const output = `Resources                                       Non-Resource URLs   Resource Names   Verbs
selfsubjectreviews.authentication.k8s.io        []                  []               [create]
services                                        []                  []               [list watch create patch delete]
deployments.apps                                []                  []               [get list watch patch]
secrets                                         []                  [cloudbase-webhook-ca]   [get update]
                                                [/api/*]            []               [get]
`;
    expect(canIRules(output)).toEqual([
      { resource: 'services', verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
      { resource: 'deployments.apps', verbs: ['get', 'list', 'watch', 'patch'] },
      { resource: 'secrets', verbs: ['get', 'update'] },
    ]);
  });
});

describe('readRbacTable', () => {
  it('reads the rows between the rbac markers only', () => {
    const readme = `| \`ignored\` | get |
<!-- rbac -->
| Resource | Verbs | Scope | Why |
| --- | --- | --- | --- |
| \`services\` | \`list\`, \`watch\`, \`patch\` | cluster | children |
| \`leases.coordination.k8s.io\` | get, update | cloudbase-system | leader election |
<!-- /rbac -->
| \`after\` | delete |`;
    expect(readRbacTable(readme)).toEqual([
      { resource: 'services', verbs: ['list', 'watch', 'patch'] },
      { resource: 'leases.coordination.k8s.io', verbs: ['get', 'update'] },
    ]);
  });
});
