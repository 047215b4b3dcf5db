import { describe, expect, it } from '@jest/globals';
import { DEFAULT_DRAIN_MS } from '../contract/runtime-env.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_MS, loadRuntimeConfig } from './config.js';

describe('loadRuntimeConfig', () => {
  describe('when only the handler is set', () => {
    it('applies the defaults of the pod layout', () => {
      expect(loadRuntimeConfig({ CLOUDBASE_HANDLER: 'handler.js' })).toEqual({
        ok: true,
        config: {
          workspace: '/workspace',
          handler: { modulePath: 'handler.js' },
          signature: 'fetch',
          port: 8080,
          adminPort: 9090,
          functionName: 'function',
          namespace: 'default',
          runtime: `nodejs${process.versions.node.split('.')[0]}`,
          timeoutMs: DEFAULT_TIMEOUT_MS,
          maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
          logLevel: 'info',
          drainMs: 5000,
        },
      });
    });
  });

  describe('when every variable is set', () => {
    it('reads each of them', () => {
      const result = loadRuntimeConfig({
        CLOUDBASE_HANDLER: 'lib/fn.mjs#hello',
        CLOUDBASE_WORKSPACE: '/srv/app/',
        CLOUDBASE_SIGNATURE: 'Kubeless',
        CLOUDBASE_PORT: '8081',
        CLOUDBASE_ADMIN_PORT: '9091',
        CLOUDBASE_FUNCTION_NAME: 'hello',
        CLOUDBASE_NAMESPACE: 'demo',
        CLOUDBASE_RUNTIME: 'nodejs22',
        CLOUDBASE_TIMEOUT_MS: '5000',
        CLOUDBASE_MAX_BODY_BYTES: '1024',
        CLOUDBASE_LOG_LEVEL: 'debug',
        CLOUDBASE_DRAIN_MS: '0',
      });
      expect(result).toEqual({
        ok: true,
        config: {
          workspace: '/srv/app/',
          handler: { modulePath: 'lib/fn.mjs', exportName: 'hello' },
          signature: 'kubeless',
          port: 8081,
          adminPort: 9091,
          functionName: 'hello',
          namespace: 'demo',
          runtime: 'nodejs22',
          timeoutMs: 5000,
          maxBodyBytes: 1024,
          logLevel: 'debug',
          drainMs: 0,
        },
      });
    });
  });

  describe('the drain period (CLOUDBASE_DRAIN_MS)', () => {
    it.each([
      ['unset, is the default', undefined, DEFAULT_DRAIN_MS],
      ['empty, is the default', '', DEFAULT_DRAIN_MS],
      ['0, is no drain', '0', 0],
      ['300000, is the largest accepted', '300000', 300_000],
      ['padded with spaces, is trimmed', ' 250 ', 250],
    ])('when %s', (_case, value, drainMs) => {
      const result = loadRuntimeConfig({ CLOUDBASE_HANDLER: 'handler.js', CLOUDBASE_DRAIN_MS: value });
      expect(result.ok && result.config.drainMs).toBe(drainMs);
    });
  });

  describe('the announcement to the activator', () => {
    const base = { CLOUDBASE_HANDLER: 'handler.js' };
    it('is read with the pod IP and UID when the webhook named an activator', () => {
      const result = loadRuntimeConfig({
        ...base,
        CLOUDBASE_ACTIVATOR_URL: 'http://10.96.0.20:9090',
        CLOUDBASE_POD_IP: '10.1.0.5',
        CLOUDBASE_POD_UID: 'c0ffee-1',
      });
      expect(result.ok && result.config.podUid).toBe('c0ffee-1');
      expect(result.ok && result.config.announce).toEqual({
        activatorUrl: 'http://10.96.0.20:9090',
        ip: '10.1.0.5',
        uid: 'c0ffee-1',
        tokenFile: '/var/run/secrets/cloudbase.dev/activator/token',
      });
    });

    it('is absent without an activator', () => {
      const result = loadRuntimeConfig({ ...base, CLOUDBASE_POD_IP: '10.1.0.5' });
      expect(result.ok && result.config.announce).toBeUndefined();
    });

    it.each([
      [
        { CLOUDBASE_ACTIVATOR_URL: 'ftp://x', CLOUDBASE_POD_IP: '10.1.0.5', CLOUDBASE_POD_UID: 'u' },
        /CLOUDBASE_ACTIVATOR_URL="ftp:\/\/x" is not valid/,
      ],
      [
        { CLOUDBASE_ACTIVATOR_URL: 'http://a:1', CLOUDBASE_POD_UID: 'u' },
        /CLOUDBASE_POD_IP="" is not valid: expected the pod's IP/,
      ],
      [
        { CLOUDBASE_ACTIVATOR_URL: 'http://a:1', CLOUDBASE_POD_IP: '10.1.0.5' },
        /CLOUDBASE_POD_UID is not set/,
      ],
    ])('names what is missing or wrong: %j', (env, message) => {
      const result = loadRuntimeConfig({ ...base, ...env });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.errors.join('; ')).toMatch(message);
    });
  });

  describe('when values are invalid', () => {
    it.each([
      [
        {},
        'CLOUDBASE_HANDLER is not set: expected <module path>[#<export>] relative to the workspace, e.g. handler.js#hello',
      ],
      [
        { CLOUDBASE_SIGNATURE: 'lambda' },
        'CLOUDBASE_SIGNATURE="lambda" is not valid: expected one of fetch, openfaas, fission, kubeless, knative',
      ],
      [
        { CLOUDBASE_PORT: '80a' },
        'CLOUDBASE_PORT="80a" is not valid: expected an integer port between 1 and 65535',
      ],
      [
        { CLOUDBASE_ADMIN_PORT: '70000' },
        'CLOUDBASE_ADMIN_PORT="70000" is not valid: expected an integer port between 1 and 65535',
      ],
      [
        { CLOUDBASE_PORT: '9090' },
        'CLOUDBASE_PORT and CLOUDBASE_ADMIN_PORT are both 9090: expected two different ports',
      ],
      [
        { CLOUDBASE_WORKSPACE: 'workspace' },
        'CLOUDBASE_WORKSPACE="workspace" is not valid: expected an absolute directory path, e.g. /workspace',
      ],
      [
        { CLOUDBASE_TIMEOUT_MS: '0' },
        'CLOUDBASE_TIMEOUT_MS="0" is not valid: expected an integer number of milliseconds between 1 and 3600000',
      ],
      [
        { CLOUDBASE_TIMEOUT_MS: '1.5' },
        'CLOUDBASE_TIMEOUT_MS="1.5" is not valid: expected an integer number of milliseconds between 1 and 3600000',
      ],
      [
        { CLOUDBASE_MAX_BODY_BYTES: '-1' },
        'CLOUDBASE_MAX_BODY_BYTES="-1" is not valid: expected an integer number of bytes between 1 and 2147483647',
      ],
      [
        { CLOUDBASE_DRAIN_MS: '300001' },
        'CLOUDBASE_DRAIN_MS="300001" is not valid: expected an integer number of milliseconds between 0 and 300000',
      ],
      [
        { CLOUDBASE_DRAIN_MS: '-1' },
        'CLOUDBASE_DRAIN_MS="-1" is not valid: expected an integer number of milliseconds between 0 and 300000',
      ],
      [
        { CLOUDBASE_DRAIN_MS: '1.5' },
        'CLOUDBASE_DRAIN_MS="1.5" is not valid: expected an integer number of milliseconds between 0 and 300000',
      ],
      [
        { CLOUDBASE_DRAIN_MS: '5s' },
        'CLOUDBASE_DRAIN_MS="5s" is not valid: expected an integer number of milliseconds between 0 and 300000',
      ],
      [
        { CLOUDBASE_LOG_LEVEL: 'loud' },
        'CLOUDBASE_LOG_LEVEL="loud" is not valid: expected one of fatal, error, warn, info, debug, trace, silent',
      ],
    ])('for %j it says %s', (env, message) => {
      const base =
        'CLOUDBASE_HANDLER' in env || Object.keys(env).length === 0
          ? {}
          : { CLOUDBASE_HANDLER: 'handler.js' };
      expect(loadRuntimeConfig({ ...base, ...env })).toEqual({ ok: false, errors: [message] });
    });

    it('reports every problem at once', () => {
      const result = loadRuntimeConfig({ CLOUDBASE_SIGNATURE: 'x', CLOUDBASE_PORT: 'y' });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.errors).toHaveLength(3);
    });

    it('requires a named export for the kubeless signature', () => {
      expect(loadRuntimeConfig({ CLOUDBASE_HANDLER: 'handler.js', CLOUDBASE_SIGNATURE: 'kubeless' })).toEqual(
        {
          ok: false,
          errors: [
            'CLOUDBASE_HANDLER="handler.js" is not valid for the kubeless signature: expected <module path>#<export>, e.g. handler.js#handler (kubeless calls a named export)',
          ],
        },
      );
    });
  });
});

describe('CLOUDBASE_HANDLER, parsed by the contract', () => {
  it.each([
    ['handler.js', { modulePath: 'handler.js' }],
    ['lib/fn.mjs#hello', { modulePath: 'lib/fn.mjs', exportName: 'hello' }],
    ['./src/index.mjs#handle', { modulePath: './src/index.mjs', exportName: 'handle' }],
    ['  hello  ', { modulePath: 'hello' }],
  ])('accepts %j', (raw, handler) => {
    const result = loadRuntimeConfig({ CLOUDBASE_HANDLER: raw });
    expect(result.ok && result.config.handler).toEqual(handler);
  });

  it.each([
    ['#hello', 'has an empty module path; use <module path>[#<export>], e.g. index.js#handler'],
    ['handler.js#', 'names the export "", which is not a JavaScript identifier'],
    ['handler.js#a#b', "has more than one '#'; use <module path>[#<export>], e.g. index.js#handler"],
    ['handler.js#not-an-id', 'names the export "not-an-id", which is not a JavaScript identifier'],
    ['/etc/passwd', 'has an absolute module path; use a path relative to the function code, e.g. index.js'],
    ['../secret.js', "leaves the function code with '..'; use a path inside it"],
    ['a/../../secret.js', "leaves the function code with '..'; use a path inside it"],
    ['lib\\fn.js', "uses '\\' in the module path; use '/'"],
  ])('refuses %j, saying why in the words of the contract', (raw, problem) => {
    expect(loadRuntimeConfig({ CLOUDBASE_HANDLER: raw })).toEqual({
      ok: false,
      errors: [`CLOUDBASE_HANDLER=${JSON.stringify(raw)} is not valid: ${problem}`],
    });
  });
});

describe('an event function', () => {
  const event = { CLOUDBASE_HANDLER: 'handler.js', CLOUDBASE_TRIGGER: 'event' };

  it('reads where and how it consumes', () => {
    const result = loadRuntimeConfig({
      ...event,
      CLOUDBASE_EVENTS_URL: 'nats://bus:4222',
      CLOUDBASE_EVENTS_MAX_ATTEMPTS: '3',
      CLOUDBASE_EVENTS_BACKOFF_MS: '0,250',
      CLOUDBASE_EVENTS_CONCURRENCY: '4',
    });
    expect(result.ok && result.config.events).toEqual({
      url: 'nats://bus:4222',
      maxAttempts: 3,
      backoffMs: [0, 250],
      concurrency: 4,
    });
  });

  it('says what is missing or wrong', () => {
    const result = loadRuntimeConfig({ ...event, CLOUDBASE_EVENTS_BACKOFF_MS: '1s' });
    expect(!result.ok && result.errors).toEqual([
      "CLOUDBASE_EVENTS_URL is not set: expected the event bus's NATS URL, which an event function consumes from (the controller's --events-url)",
      'CLOUDBASE_EVENTS_BACKOFF_MS="1s" is not valid: expected comma-separated whole numbers of milliseconds, e.g. 1000,5000,30000',
    ]);
  });

  it('is absent for an HTTP function', () => {
    const result = loadRuntimeConfig({ CLOUDBASE_HANDLER: 'handler.js' });
    expect(result.ok && result.config.events).toBeUndefined();
  });
});
