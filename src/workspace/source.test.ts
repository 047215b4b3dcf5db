import { describe, expect, it } from '@jest/globals';
import { planFetch } from './source.js';

const SHA = 'a'.repeat(64);

describe('planFetch', () => {
  it('copies the mounted ConfigMap for a configmap: source', () => {
    expect(planFetch({ CLOUDBASE_SOURCE: 'configmap:hello-src' })).toEqual({
      kind: 'configmap',
      name: 'hello-src',
      dir: '/cloudbase/source',
      workspace: '/workspace',
    });
  });

  it('honours the source dir and workspace variables', () => {
    expect(
      planFetch({ CLOUDBASE_SOURCE: 'configmap:x', CLOUDBASE_SOURCE_DIR: '/src', CLOUDBASE_WORKSPACE: '/w' }),
    ).toEqual({ kind: 'configmap', name: 'x', dir: '/src', workspace: '/w' });
  });

  it('downloads an https tarball with its sha256 (upper case accepted)', () => {
    expect(
      planFetch({
        CLOUDBASE_SOURCE: 'https://example.com/fn.tgz',
        CLOUDBASE_SOURCE_SHA256: SHA.toUpperCase(),
      }),
    ).toEqual({
      kind: 'tarball',
      url: new URL('https://example.com/fn.tgz'),
      sha256: SHA,
      workspace: '/workspace',
    });
  });

  it.each([
    [
      {},
      'CLOUDBASE_SOURCE is not set: expected configmap:<name> or an https:// URL of a .tgz (the cloudbase.dev/source annotation)',
    ],
    [
      { CLOUDBASE_SOURCE: 'configmap:' },
      'CLOUDBASE_SOURCE="configmap:" is not valid: expected configmap:<name>',
    ],
    [
      { CLOUDBASE_SOURCE: 'fn.tgz' },
      'CLOUDBASE_SOURCE="fn.tgz" is not valid: expected configmap:<name> or an https:// URL of a .tgz',
    ],
    [
      { CLOUDBASE_SOURCE: 'http://example.com/fn.tgz', CLOUDBASE_SOURCE_SHA256: SHA },
      'CLOUDBASE_SOURCE="http://example.com/fn.tgz" is not valid: only https:// URLs are fetched',
    ],
    [
      { CLOUDBASE_SOURCE: 'https://example.com/fn.tgz' },
      'CLOUDBASE_SOURCE_SHA256="" is not valid: expected the 64 hex digits of the tarball\'s sha256 (set the cloudbase.dev/source-sha256 annotation; sha256sum <file>.tgz prints it)',
    ],
    [
      { CLOUDBASE_SOURCE: 'configmap:x', CLOUDBASE_WORKSPACE: 'rel' },
      'CLOUDBASE_WORKSPACE="rel" is not valid: expected an absolute directory path',
    ],
  ])('refuses %j', (env, error) => {
    expect(planFetch(env)).toEqual({ error });
  });

  it('accepts http only when allowed (tests)', () => {
    expect(
      planFetch(
        { CLOUDBASE_SOURCE: 'http://127.0.0.1:1/x.tgz', CLOUDBASE_SOURCE_SHA256: SHA },
        { allowHttp: true },
      ),
    ).toMatchObject({ kind: 'tarball' });
  });
});
