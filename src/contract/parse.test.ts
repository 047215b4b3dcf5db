import { describe, expect, it } from '@jest/globals';
import { formatErrors, isFunction, parseFunctionSpec, type ContractInput } from './parse.js';

const SHA = 'a'.repeat(64);

function input(annotations: Record<string, string>, name = 'hello', namespace = 'demo'): ContractInput {
  return { annotations, name, namespace };
}

function errorsOf(annotations: Record<string, string>, name?: string): string[] {
  const result = parseFunctionSpec(input(annotations, name));
  if (result.ok) throw new Error(`expected errors, got spec ${JSON.stringify(result.spec)}`);
  return result.errors.map((error) => error.message);
}

const minimal = { 'cloudbase.dev/function': 'true', 'cloudbase.dev/source': 'configmap:hello-code' };

describe('isFunction', () => {
  it.each([
    [undefined, false],
    [{}, false],
    [{ 'cloudbase.dev/functions': 'true' }, false],
    [{ 'cloudbase.dev/function': '' }, true],
    [{ 'cloudbase.dev/function': 'true' }, true],
  ])('for annotations %j returns %s', (annotations, expected) => {
    expect(isFunction(annotations)).toBe(expected);
  });
});

describe('parseFunctionSpec', () => {
  describe('when given the minimal annotations', () => {
    it('applies every default', () => {
      expect(parseFunctionSpec(input(minimal))).toEqual({
        ok: true,
        warnings: [],
        spec: {
          name: 'hello',
          namespace: 'demo',
          runtime: 'nodejs22',
          source: { kind: 'configmap', configMapName: 'hello-code' },
          handler: { modulePath: 'index.js' },
          signature: 'fetch',
          trigger: 'http',
          route: { pathPrefix: '/demo/hello', entrypoints: ['web'] },
          scaling: {
            minScale: 0,
            maxScale: 10,
            targetConcurrency: 100,
            scaleToZeroAfterMs: 60_000,
            stableWindowMs: 60_000,
          },
        },
      });
    });
  });

  describe('when given an event function', () => {
    it('reads its events with the defaults, and gives it no route', () => {
      const result = parseFunctionSpec(
        input({
          ...minimal,
          'cloudbase.dev/trigger': 'event',
          'cloudbase.dev/events': 'orders.*, orders.*,a.b',
        }),
      );
      expect(result.ok && result.spec).toMatchObject({
        trigger: 'event',
        events: {
          types: ['orders.*', 'a.b'],
          maxAttempts: 5,
          backoffMs: [1000, 5000, 30_000],
          concurrency: 32,
        },
      });
      expect(result.ok && result.spec.route).toBeUndefined();
    });

    it('reads its delivery annotations', () => {
      const result = parseFunctionSpec(
        input({
          ...minimal,
          'cloudbase.dev/trigger': 'event',
          'cloudbase.dev/events': 'a',
          'cloudbase.dev/event-max-attempts': '1',
          'cloudbase.dev/event-backoff': '0s, 250ms,2m',
          'cloudbase.dev/event-concurrency': '1',
        }),
      );
      expect(result.ok && result.spec.events).toEqual({
        types: ['a'],
        maxAttempts: 1,
        backoffMs: [0, 250, 120_000],
        concurrency: 1,
      });
    });
  });

  describe('when given every annotation', () => {
    it('reads each of them', () => {
      const result = parseFunctionSpec(
        input({
          'cloudbase.dev/function': 'greeter',
          'cloudbase.dev/runtime': 'nodejs24',
          'cloudbase.dev/source': 'https://example.com/code/greeter-1.0.0.tgz',
          'cloudbase.dev/source-sha256': 'AB'.repeat(32),
          'cloudbase.dev/handler': 'lib/main.mjs#greet',
          'cloudbase.dev/signature': 'openfaas',
          'cloudbase.dev/trigger': 'http',
          'cloudbase.dev/route': '/api/greet/',
          'cloudbase.dev/host': 'fn.example.com',
          'cloudbase.dev/entrypoints': 'web, websecure,web',
          'cloudbase.dev/min-scale': '2',
          'cloudbase.dev/max-scale': '5',
          'cloudbase.dev/concurrency': '8',
          'cloudbase.dev/scale-to-zero-after': '15m',
          'cloudbase.dev/scale-window': '10s',
        }),
      );
      expect(result).toEqual({
        ok: true,
        warnings: [],
        spec: {
          name: 'greeter',
          namespace: 'demo',
          runtime: 'nodejs24',
          source: {
            kind: 'https',
            url: 'https://example.com/code/greeter-1.0.0.tgz',
            sha256: 'ab'.repeat(32),
          },
          handler: { modulePath: 'lib/main.mjs', exportName: 'greet' },
          signature: 'openfaas',
          trigger: 'http',
          route: { pathPrefix: '/api/greet', host: 'fn.example.com', entrypoints: ['web', 'websecure'] },
          scaling: {
            minScale: 2,
            maxScale: 5,
            targetConcurrency: 8,
            scaleToZeroAfterMs: 900_000,
            stableWindowMs: 10_000,
          },
        },
      });
    });
  });

  it.each([
    ['image', { kind: 'image' }],
    ['configmap:code.v2', { kind: 'configmap', configMapName: 'code.v2' }],
  ])('reads the source %s', (source, expected) => {
    const result = parseFunctionSpec(input({ ...minimal, 'cloudbase.dev/source': source }));
    expect(result.ok && result.spec.source).toEqual(expected);
  });

  it.each([
    [{}, undefined],
    [{ 'cloudbase.dev/build': 'pod' }, 'pod'],
    [{ 'cloudbase.dev/build': 'image' }, 'image'],
  ])('reads the build %j as %s (absent: the installation decides)', (overrides, expected) => {
    const result = parseFunctionSpec(input({ ...minimal, ...overrides }));
    expect(result.ok).toBe(true);
    expect(result.ok && result.spec.build).toBe(expected);
  });

  it.each([
    ['/', '/'],
    ['/a/b/', '/a/b'],
    ["/a-b_c.d~e/%20/x:y@z/$&'()*+,;=", "/a-b_c.d~e/%20/x:y@z/$&'()*+,;="],
  ])('accepts the route %s as %s', (route, expected) => {
    const result = parseFunctionSpec(input({ ...minimal, 'cloudbase.dev/route': route }));
    expect(result.ok && result.spec.route?.pathPrefix).toBe(expected);
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['60m', 3_600_000],
  ])('reads the timeout %s as %i ms', (timeout, ms) => {
    const result = parseFunctionSpec(input({ ...minimal, 'cloudbase.dev/timeout': timeout }));
    expect(result.ok && result.spec.timeoutMs).toBe(ms);
  });

  describe('scaling', () => {
    const scalingOf = (annotations: Record<string, string>) => {
      const result = parseFunctionSpec(input({ ...minimal, ...annotations }));
      if (!result.ok) throw new Error(formatErrors(result.errors));
      return result.spec.scaling;
    };

    it('takes min-scale = max-scale as a fixed size', () => {
      expect(scalingOf({ 'cloudbase.dev/min-scale': '3', 'cloudbase.dev/max-scale': '3' })).toMatchObject({
        minScale: 3,
        maxScale: 3,
      });
    });

    it('raises the default max-scale to a larger min-scale', () => {
      expect(scalingOf({ 'cloudbase.dev/min-scale': '12' })).toMatchObject({ minScale: 12, maxScale: 12 });
    });

    it.each([
      ['1s', 1000],
      ['90s', 90_000],
      ['2h', 7_200_000],
      ['1500ms', 1500],
    ])('reads scale-to-zero-after %s as %i ms', (value, ms) => {
      expect(scalingOf({ 'cloudbase.dev/scale-to-zero-after': value }).scaleToZeroAfterMs).toBe(ms);
    });

    it('refuses a max-scale below min-scale, naming both', () => {
      expect(
        errorsOf({ ...minimal, 'cloudbase.dev/min-scale': '4', 'cloudbase.dev/max-scale': '2' }),
      ).toEqual([
        'cloudbase.dev/max-scale="2" is below cloudbase.dev/min-scale="4"; make max-scale at least min-scale (equal for a fixed number of pods)',
      ]);
    });

    it.each([
      ['cloudbase.dev/min-scale', '-1', 'is not a whole number from 0 to 1000; use e.g. 0 or 2'],
      ['cloudbase.dev/min-scale', '1.5', 'is not a whole number from 0 to 1000; use e.g. 0 or 2'],
      ['cloudbase.dev/min-scale', '01', 'is not a whole number from 0 to 1000; use e.g. 0 or 2'],
      ['cloudbase.dev/max-scale', '0', 'is not a whole number from 1 to 1000; use e.g. 10'],
      ['cloudbase.dev/max-scale', '1001', 'is not a whole number from 1 to 1000; use e.g. 10'],
      [
        'cloudbase.dev/concurrency',
        '0',
        'is not a whole number from 1 to 100000; use e.g. 100, or 1 for a handler that uses its CPU for every request',
      ],
      [
        'cloudbase.dev/scale-to-zero-after',
        '500ms',
        'is not a duration from 1s to 24h; use a whole number of ms, s, m or h, e.g. 60s or 15m',
      ],
      [
        'cloudbase.dev/scale-to-zero-after',
        'never',
        'is not a duration from 1s to 24h; use a whole number of ms, s, m or h, e.g. 60s or 15m',
      ],
      [
        'cloudbase.dev/scale-window',
        '5s',
        'is not a duration from 6s to 1h; use a whole number of ms, s, m or h, e.g. 60s',
      ],
    ])('refuses %s=%s', (annotation, value, problem) => {
      expect(errorsOf({ ...minimal, [annotation]: value })).toEqual([
        `${annotation}=${JSON.stringify(value)} ${problem}`,
      ]);
    });
  });

  it.each(['0s', '61m', '1.5s', '30', 'soon'])('rejects the timeout %s', (timeout) => {
    expect(errorsOf({ ...minimal, 'cloudbase.dev/timeout': timeout })).toEqual([
      `cloudbase.dev/timeout=${JSON.stringify(timeout)} is not a timeout; use a whole number of ms, s or m from 1ms to 60m, e.g. 30s`,
    ]);
  });

  it('takes a kubeless handler that names its export', () => {
    const result = parseFunctionSpec(
      input({
        ...minimal,
        'cloudbase.dev/signature': 'kubeless',
        'cloudbase.dev/handler': 'handler.js#hello',
      }),
    );
    expect(result.ok && result.spec.handler).toEqual({ modulePath: 'handler.js', exportName: 'hello' });
  });

  describe('when an annotation is wrong', () => {
    it.each<[string, Record<string, string>, string[]]>([
      [
        'the opt-in is "false"',
        { 'cloudbase.dev/function': 'false' },
        ['cloudbase.dev/function="false" cannot be "false"; to opt out, remove the annotation'],
      ],
      [
        'the function name is not a DNS-1035 label',
        { 'cloudbase.dev/function': '9lives' },
        [
          'cloudbase.dev/function="9lives" is not a valid function name; use a DNS-1035 label: lowercase letters, digits and \'-\', starting with a letter, at most 63 characters',
        ],
      ],
      [
        'the runtime is unknown',
        { 'cloudbase.dev/runtime': 'python3' },
        [
          'cloudbase.dev/runtime="python3" is not a supported runtime; use one of nodejs22, nodejs20, nodejs24',
        ],
      ],
      [
        'the source is of no known kind',
        { 'cloudbase.dev/source': 'git://example.com/repo' },
        [
          'cloudbase.dev/source="git://example.com/repo" is not a known source; use configmap:<name>, an https:// URL of a .tgz, or image',
        ],
      ],
      [
        'the source is plain http',
        { 'cloudbase.dev/source': 'http://example.com/a.tgz', 'cloudbase.dev/source-sha256': SHA },
        [
          'cloudbase.dev/source="http://example.com/a.tgz" is plain http; the code must come over https (use configmap:<name>, an https:// URL of a .tgz, or image)',
        ],
      ],
      [
        'the ConfigMap name is invalid',
        { 'cloudbase.dev/source': 'configmap:Code_1' },
        [
          'cloudbase.dev/source="configmap:Code_1" names "Code_1", which is not a valid ConfigMap name (lowercase letters, digits, \'-\' and \'.\')',
        ],
      ],
      [
        'an https source has no sha256',
        { 'cloudbase.dev/source': 'https://example.com/a.tgz' },
        [
          "cloudbase.dev/source-sha256 is required for an https:// source: set it to the tarball's sha256 (64 hexadecimal characters, e.g. from sha256sum)",
        ],
      ],
      [
        'the sha256 is not 64 hex characters',
        { 'cloudbase.dev/source': 'https://example.com/a.tgz', 'cloudbase.dev/source-sha256': 'abc123' },
        ['cloudbase.dev/source-sha256="abc123" is not a sha256: expected 64 hexadecimal characters'],
      ],
      [
        'an https URL carries credentials',
        { 'cloudbase.dev/source': 'https://user:pw@example.com/a.tgz', 'cloudbase.dev/source-sha256': SHA },
        [
          'cloudbase.dev/source="https://user:pw@example.com/a.tgz" carries credentials; annotations are readable by anyone who can read the Deployment, so use a URL without user:password',
        ],
      ],
      [
        'a sha256 is given for a ConfigMap source',
        { 'cloudbase.dev/source-sha256': SHA },
        [
          'cloudbase.dev/source-sha256 only applies to an https:// source, and cloudbase.dev/source is a ConfigMap; remove it',
        ],
      ],
      [
        'the handler leaves the workspace',
        { 'cloudbase.dev/handler': '../secrets.js' },
        ['cloudbase.dev/handler="../secrets.js" leaves the function code with \'..\'; use a path inside it'],
      ],
      [
        'the handler is absolute',
        { 'cloudbase.dev/handler': '/etc/passwd' },
        [
          'cloudbase.dev/handler="/etc/passwd" has an absolute module path; use a path relative to the function code, e.g. index.js',
        ],
      ],
      [
        'the handler export is not an identifier',
        { 'cloudbase.dev/handler': 'index.js#my-handler' },
        [
          'cloudbase.dev/handler="index.js#my-handler" names the export "my-handler", which is not a JavaScript identifier',
        ],
      ],
      [
        'the handler has two #',
        { 'cloudbase.dev/handler': 'a.js#b#c' },
        [
          'cloudbase.dev/handler="a.js#b#c" has more than one \'#\'; use <module path>[#<export>], e.g. index.js#handler',
        ],
      ],
      [
        'the signature is unknown',
        { 'cloudbase.dev/signature': 'lambda' },
        [
          'cloudbase.dev/signature="lambda" is not a supported signature; use one of fetch, openfaas, fission, kubeless, knative',
        ],
      ],
      [
        'a kubeless handler names no export',
        { 'cloudbase.dev/signature': 'kubeless' },
        [
          'cloudbase.dev/handler is required for the kubeless signature: use <module path>#<export>, e.g. handler.js#hello',
        ],
      ],
      [
        'the trigger is unknown',
        { 'cloudbase.dev/trigger': 'kafka' },
        ['cloudbase.dev/trigger="kafka" is not a supported trigger; use one of http, event'],
      ],
      [
        'an event function names no events',
        { 'cloudbase.dev/trigger': 'event' },
        [
          'cloudbase.dev/events is required: an event function receives the CloudEvents types it names, e.g. orders.created or orders.*',
        ],
      ],
      [
        'an event function has a route',
        {
          'cloudbase.dev/trigger': 'event',
          'cloudbase.dev/events': 'a.b',
          'cloudbase.dev/host': 'x.example',
        },
        [
          'cloudbase.dev/host routes HTTP requests, and cloudbase.dev/trigger=event makes a function that has no route (it receives events); remove cloudbase.dev/host, or use cloudbase.dev/trigger=http',
        ],
      ],
      [
        'an event function sets the HTTP concurrency',
        { 'cloudbase.dev/trigger': 'event', 'cloudbase.dev/events': 'a.b', 'cloudbase.dev/concurrency': '4' },
        [
          'cloudbase.dev/concurrency counts HTTP requests in flight, which an event function has none of; use cloudbase.dev/event-concurrency for the events one pod handles at once',
        ],
      ],
      [
        'an HTTP function sets an event annotation',
        { 'cloudbase.dev/event-max-attempts': '3' },
        [
          'cloudbase.dev/event-max-attempts applies to event functions, and this one is an HTTP function; add cloudbase.dev/trigger=event, or remove cloudbase.dev/event-max-attempts',
        ],
      ],
      [
        'an event type pattern has a * inside',
        { 'cloudbase.dev/trigger': 'event', 'cloudbase.dev/events': 'orders.*.created' },
        [
          `cloudbase.dev/events="orders.*.created" has "orders.*.created", which is not an event type pattern: segments separated by '.', of printable characters other than space, '*' and '>', and an optional last segment '*' that matches any one segment (orders.* takes orders.created, not orders.created.v2)`,
        ],
      ],
      [
        'a backoff delay has no unit',
        {
          'cloudbase.dev/trigger': 'event',
          'cloudbase.dev/events': 'a',
          'cloudbase.dev/event-backoff': '1s,5',
        },
        [
          'cloudbase.dev/event-backoff="1s,5" has "5", which is not a delay from 0s to 12h; use comma-separated whole numbers of ms, s, m or h, e.g. 1s,5s,30s',
        ],
      ],
      [
        'the event concurrency is zero',
        {
          'cloudbase.dev/trigger': 'event',
          'cloudbase.dev/events': 'a',
          'cloudbase.dev/event-concurrency': '0',
        },
        [
          'cloudbase.dev/event-concurrency="0" is not a whole number from 1 to 1000; use e.g. 32, or 1 to handle events one at a time in each pod',
        ],
      ],
      [
        'the route does not start with /',
        { 'cloudbase.dev/route': 'hello' },
        ['cloudbase.dev/route="hello" does not start with \'/\'; use a path such as /hello'],
      ],
      [
        'the route contains a space',
        { 'cloudbase.dev/route': '/my route' },
        ['cloudbase.dev/route="/my route" contains whitespace; encode it as %20 or remove it'],
      ],
      [
        'the route contains a backtick that would break the Traefik rule',
        { 'cloudbase.dev/route': '/a`)||Path(`/' },
        [
          'cloudbase.dev/route="/a`)||Path(`/" contains a character not allowed in a URL path; use letters, digits and -._~!$&\'()*+,;=:@%/',
        ],
      ],
      [
        'the route has ..',
        { 'cloudbase.dev/route': '/a/../b' },
        ["cloudbase.dev/route=\"/a/../b\" contains a '.' or '..' segment"],
      ],
      [
        'the route has //',
        { 'cloudbase.dev/route': '/a//b' },
        ['cloudbase.dev/route="/a//b" contains an empty segment \'//\''],
      ],
      [
        'the host is a wildcard',
        { 'cloudbase.dev/host': '*.example.com' },
        ['cloudbase.dev/host="*.example.com" is a wildcard; Host matches one exact name, so name the host'],
      ],
      [
        'the host has upper case',
        { 'cloudbase.dev/host': 'Fn.Example.com' },
        ['cloudbase.dev/host="Fn.Example.com" is not lowercase; use "fn.example.com"'],
      ],
      [
        'the entrypoints list has a hole',
        { 'cloudbase.dev/entrypoints': 'web,,websecure' },
        [
          'cloudbase.dev/entrypoints="web,,websecure" has an empty entrypoint name; use e.g. web or web,websecure',
        ],
      ],
      [
        'the build is not one Cloudbase knows',
        { 'cloudbase.dev/build': 'kaniko' },
        ['cloudbase.dev/build="kaniko" is not a supported build; use one of pod, image'],
      ],
      [
        'a source that is an image is to be built',
        { 'cloudbase.dev/source': 'image', 'cloudbase.dev/build': 'image' },
        [
          'cloudbase.dev/build="image" builds a function\'s source, and cloudbase.dev/source=image says the code is in the container\'s image already; remove cloudbase.dev/build',
        ],
      ],
    ])('when %s, says so', (_case, overrides, expected) => {
      expect(errorsOf({ ...minimal, ...overrides })).toEqual(expected);
    });

    it('reports every wrong annotation at once', () => {
      expect(
        errorsOf({
          'cloudbase.dev/function': 'true',
          'cloudbase.dev/runtime': 'go',
          'cloudbase.dev/route': 'x',
        }),
      ).toEqual([
        'cloudbase.dev/runtime="go" is not a supported runtime; use one of nodejs22, nodejs20, nodejs24',
        'cloudbase.dev/source is required: use configmap:<name>, an https:// URL of a .tgz, or image',
        'cloudbase.dev/route="x" does not start with \'/\'; use a path such as /hello',
      ]);
    });

    it('joins the messages into one admission message', () => {
      const result = parseFunctionSpec(
        input({ 'cloudbase.dev/function': 'true', 'cloudbase.dev/runtime': 'go' }),
      );
      expect(!result.ok && formatErrors(result.errors)).toBe(
        'cloudbase.dev/runtime="go" is not a supported runtime; use one of nodejs22, nodejs20, nodejs24; cloudbase.dev/source is required: use configmap:<name>, an https:// URL of a .tgz, or image',
      );
    });
  });

  describe('when "true" takes the Deployment name', () => {
    it('rejects a name that is not a DNS-1035 label', () => {
      expect(errorsOf(minimal, 'hello.v2')).toEqual([
        'cloudbase.dev/function="true" takes the Deployment name "hello.v2", which is not a valid function name (a DNS-1035 label: lowercase letters, digits and \'-\', starting with a letter, at most 63 characters); set a valid name instead',
      ]);
    });

    it('asks for a name when the Deployment only has generateName', () => {
      expect(errorsOf(minimal, '')).toEqual([
        'cloudbase.dev/function="true" takes the Deployment name, which is not set yet (generateName); set the function name instead',
      ]);
    });
  });

  describe('when given a runtime', () => {
    const nodejs20 =
      'cloudbase.dev/runtime="nodejs20" is past its Node.js end of life (2026-04-30) and gets no security fixes; use nodejs22 or nodejs24';
    it.each([
      ['nodejs20', [nodejs20]],
      ['nodejs22', []],
      ['nodejs24', []],
    ])('admits %s with warnings %j', (runtime, warnings) => {
      const result = parseFunctionSpec(input({ ...minimal, 'cloudbase.dev/runtime': runtime }));
      expect(result).toMatchObject({ ok: true, spec: { runtime } });
      expect(result.warnings).toEqual(warnings);
    });

    it('warns about an end-of-life runtime next to the errors of other annotations', () => {
      const result = parseFunctionSpec(
        input({ ...minimal, 'cloudbase.dev/runtime': 'nodejs20', 'cloudbase.dev/route': 'api' }),
      );
      expect(result.ok).toBe(false);
      expect(result.warnings).toEqual([nodejs20]);
    });
  });

  describe('when an unknown cloudbase.dev key is present', () => {
    it.each([
      [
        'cloudbase.dev/runtim',
        'unknown annotation "cloudbase.dev/runtim" is ignored; did you mean "cloudbase.dev/runtime"?',
      ],
      [
        'cloudbase.dev/routes',
        'unknown annotation "cloudbase.dev/routes" is ignored; did you mean "cloudbase.dev/route"?',
      ],
      [
        'cloudbase.dev/sha256',
        'unknown annotation "cloudbase.dev/sha256" is ignored; did you mean "cloudbase.dev/source-sha256"?',
      ],
    ])('warns about %s and suggests the nearest key', (key, warning) => {
      const result = parseFunctionSpec(input({ ...minimal, [key]: 'x' }));
      expect(result.ok).toBe(true);
      expect(result.warnings).toEqual([warning]);
    });

    it('does not warn about the status annotation Cloudbase writes', () => {
      expect(parseFunctionSpec(input({ ...minimal, 'cloudbase.dev/url': '/demo/hello' })).warnings).toEqual(
        [],
      );
    });

    it('ignores keys of other prefixes', () => {
      expect(parseFunctionSpec(input({ ...minimal, 'example.com/runtime': 'x' })).warnings).toEqual([]);
    });
  });
});
