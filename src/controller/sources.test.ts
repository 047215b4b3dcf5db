import type { V1Deployment } from '@kubernetes/client-node';
import { sourceUsers } from './sources.js';

const fn = (name: string, source?: string): V1Deployment => ({
  metadata: { name, ...(source === undefined ? {} : { annotations: { 'cloudbase.dev/source': source } }) },
});

describe('sourceUsers', () => {
  it('gives the functions whose source is the ConfigMap, and no other', () => {
    const deployments = [
      fn('a', 'configmap:code'),
      fn('b', 'configmap:code-v2'),
      fn('c', 'https://example.com/code.tgz'),
      fn('d'),
      fn('e', ' configmap:code '),
    ];
    expect(sourceUsers(deployments, 'code').map((d) => d.metadata?.name)).toEqual(['a', 'e']);
  });
});
