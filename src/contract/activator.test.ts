import { describe, expect, it } from '@jest/globals';
import { activatorTarget } from './activator.js';

describe('activatorTarget', () => {
  it('reads the headers the route sets', () => {
    expect(
      activatorTarget({
        'x-cloudbase-function': 'demo/hello',
        'x-cloudbase-deployment': 'hello-v2',
        host: 'x',
      }),
    ).toEqual({ namespace: 'demo', function: 'hello', deployment: 'hello-v2' });
  });

  it.each([
    ['hello.demo', { namespace: 'demo', function: 'hello', deployment: 'hello' }],
    ['hello.demo.svc', { namespace: 'demo', function: 'hello', deployment: 'hello' }],
    ['hello.demo.svc.cluster.local:80', { namespace: 'demo', function: 'hello', deployment: 'hello' }],
  ])('takes a Service host %s', (host, expected) => {
    expect(activatorTarget({ host })).toEqual(expected);
  });

  it.each([
    [{ 'x-cloudbase-function': 'demo' }, /is not <namespace>\/<function>/],
    [{ 'x-cloudbase-function': 'demo/a/b' }, /is not <namespace>\/<function>/],
    [{ host: '10.0.0.1:8080' }, /names no function/],
    [{}, /names no function/],
  ])('refuses %j', (headers, message) => {
    const result = activatorTarget(headers);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(message);
  });
});
