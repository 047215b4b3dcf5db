import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import { describeApiError, isNamespaceTerminating } from './client.js';

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
