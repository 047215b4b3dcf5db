import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateCertificateAuthority, issueServingCertificate } from '../certs/authority.js';
import { connect, describeApiError, isNamespaceTerminating, type Kube } from './client.js';

// The Status the API server answers a write into a namespace that is being deleted, as NamespaceLifecycle
// builds it (k8s.io/apiserver admission/plugin/namespace/lifecycle): a StatusCause's Go field Type is
// serialized as "reason".
const terminating = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message:
    'services "fn" is forbidden: unable to create new content in namespace b because it is being terminated',
  reason: 'Forbidden',
  details: {
    name: 'fn',
    kind: 'services',
    causes: [
      {
        reason: 'NamespaceTerminating',
        message: 'namespace b is being terminated',
        field: 'metadata.namespace',
      },
    ],
  },
  code: 403,
};

describe('isNamespaceTerminating', () => {
  it.each([
    ['a parsed Status', terminating],
    ['a Status as JSON text', JSON.stringify(terminating)],
  ])('is true for a 403 with cause NamespaceTerminating in %s', (_, body) => {
    expect(isNamespaceTerminating(new ApiException(403, 'forbidden', body, {}))).toBe(true);
  });

  it.each([
    [
      'another 403 (RBAC)',
      new ApiException(403, 'forbidden', { message: 'cannot patch services', code: 403 }, {}),
    ],
    ['the same cause with another code', new ApiException(409, 'conflict', terminating, {})],
    ['a body that is not JSON', new ApiException(403, 'forbidden', 'not json', {})],
    ['a plain error', new Error('socket hang up')],
  ])('is false for %s', (_, error) => {
    expect(isNamespaceTerminating(error)).toBe(false);
  });
});

describe('describeApiError', () => {
  it('names the status code and the server message of a parsed or textual Status', () => {
    expect(describeApiError(new ApiException(403, 'x', terminating, {}))).toBe(
      `HTTP 403: ${terminating.message}`,
    );
    expect(describeApiError(new ApiException(403, 'x', JSON.stringify(terminating), {}))).toBe(
      `HTTP 403: ${terminating.message}`,
    );
  });

  it('keeps a body that is not a Status as the message', () => {
    expect(describeApiError(new ApiException(502, 'x', 'upstream down', {}))).toBe('HTTP 502: upstream down');
  });

  it('falls back to the error message', () => {
    expect(describeApiError(new ApiException(500, 'Unknown API Status Code!', undefined, {}))).toBe(
      'HTTP 500: Unknown API Status Code!',
    );
    expect(describeApiError(new Error('socket hang up'))).toBe('socket hang up');
  });
});

// Only a TLS endpoint that counts connections; every request gets the same small Namespace.
describe('the clients of connect', () => {
  let server: Server;
  let dir: string;
  let kube: Kube;
  let connections = 0;
  let requests = 0;

  beforeAll(async () => {
    const ca = generateCertificateAuthority({ commonName: 'test-ca', validityDays: 1 });
    const leaf = issueServingCertificate(ca, {
      service: 'kubernetes',
      namespace: 'default',
      ips: ['127.0.0.1'],
      validityDays: 1,
    });
    server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (request, response) => {
      requests++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } }));
    });
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    dir = await mkdtemp(path.join(os.tmpdir(), 'cloudbase-kube-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(`https://127.0.0.1:${port}`, ca.certPem));
    kube = connect(kubeconfig);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('reuse one TLS connection for sequential API calls', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await kube.core.readNamespace({ name: 'demo' })).metadata?.name).toBe('demo');
    }
    expect(requests).toBe(5);
    expect(connections).toBe(1);
  });
});

function kubeconfigYaml(server: string, caPem: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test',
        cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    users: [{ name: 'test', user: { token: 'test-token' } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', namespace: 'demo' } }],
    'current-context': 'test',
  });
}
