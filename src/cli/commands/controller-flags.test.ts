import { describe, expect, it } from '@jest/globals';
import { parseControllerFlags } from './controller-flags.js';

const inCluster = { POD_NAMESPACE: 'cloudbase-system', POD_NAME: 'cloudbase-abc' };

describe('parseControllerFlags', () => {
  it('--reserved-hosts: exact hosts, none by default, a wrong one named', () => {
    expect(parseControllerFlags([], inCluster).reservedHosts).toEqual([]);
    expect(
      parseControllerFlags(['--reserved-hosts', 'events.cloudbase.local, api.example.com'], inCluster)
        .reservedHosts,
    ).toEqual(['events.cloudbase.local', 'api.example.com']);
    expect(() => parseControllerFlags(['--reserved-hosts', 'a.example.com,bad host'], inCluster)).toThrow(
      /--reserved-hosts has "bad host", which/,
    );
  });

  it('without certificates flags serves no webhook', () => {
    const flags = parseControllerFlags([], inCluster);
    expect(flags.webhook).toBeUndefined();
    expect(flags).toMatchObject({
      leaseNamespace: 'cloudbase-system',
      identity: 'cloudbase-abc',
      shutdownDelaySeconds: 0,
    });
  });

  it('--manage-certificates: Secrets in the pod namespace, defaults a year and five years', () => {
    const flags = parseControllerFlags(['--manage-certificates', '--shutdown-delay-seconds', '5'], inCluster);
    expect(flags.webhook?.managed).toEqual({
      namespace: 'cloudbase-system',
      service: 'cloudbase-webhook',
      webhookConfiguration: 'cloudbase',
      caSecret: 'cloudbase-webhook-ca',
      tlsSecret: 'cloudbase-webhook-tls',
      caValiditySeconds: 5 * 365 * 86_400,
      certValiditySeconds: 365 * 86_400,
    });
    expect(flags.webhook?.certDir).toBeUndefined();
    expect(flags.shutdownDelaySeconds).toBe(5);
  });

  it('runtime images from CLOUDBASE_RUNTIME_IMAGES, a flag overriding one', () => {
    const flags = parseControllerFlags(['--cert-dir', '/certs', '--runtime-image', 'nodejs22=mine:2'], {
      ...inCluster,
      CLOUDBASE_RUNTIME_IMAGES: 'nodejs20=local/r20:1, nodejs22=local/r22:1,nodejs24=local/r24:1',
    });
    expect(flags.webhook?.injection.runtimeImages).toEqual({
      nodejs20: 'local/r20:1',
      nodejs22: 'mine:2',
      nodejs24: 'local/r24:1',
    });
  });

  it.each([
    [
      ['--cert-dir', '/c', '--manage-certificates'],
      '--cert-dir and --manage-certificates exclude each other',
    ],
    [
      ['--manage-certificates', '--ca-validity-seconds', '600', '--cert-validity-seconds', '601'],
      '--cert-validity-seconds must not exceed --ca-validity-seconds',
    ],
    [['--manage-certificates', '--cert-validity-seconds', '10'], '--cert-validity-seconds'],
    [['--shutdown-delay-seconds', 'soon'], '--shutdown-delay-seconds'],
    [['--autoscaler', 'maybe'], '--autoscaler "maybe": expected on or off'],
    [
      ['--activator-service', 'cloudbase-system/cloudbase-activator'],
      '--activator-service and --traefik-api go together',
    ],
    [
      ['--activator-service', 'nope', '--traefik-api', 'traefik/traefik:metrics'],
      'expected <namespace>/<service>',
    ],
    [['--activator-service', 'a/b', '--traefik-api', 'traefik'], 'is not <namespace>/<service>:<port name>'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseControllerFlags(argv, inCluster)).toThrow(message);
  });

  it('reads the activator and Traefik API flags, and --autoscaler off', () => {
    const flags = parseControllerFlags(
      [
        '--activator-service',
        'cloudbase-system/cloudbase-activator',
        '--traefik-api',
        'traefik/traefik:metrics',
        '--autoscaler',
        'off',
      ],
      inCluster,
    );
    expect(flags).toMatchObject({
      autoscaler: false,
      activatorService: { namespace: 'cloudbase-system', service: 'cloudbase-activator' },
      traefikApi: { namespace: 'traefik', service: 'traefik', port: 'metrics' },
    });
    expect(parseControllerFlags([], inCluster).autoscaler).toBe(true);
  });

  it('refuses a malformed CLOUDBASE_RUNTIME_IMAGES entry, naming it', () => {
    expect(() =>
      parseControllerFlags(['--manage-certificates'], { ...inCluster, CLOUDBASE_RUNTIME_IMAGES: 'python=x' }),
    ).toThrow('"python=x"');
  });

  it('builds nothing into images without --registry', () => {
    const flags = parseControllerFlags(['--manage-certificates'], inCluster);
    expect(flags.builds).toBeUndefined();
    expect(flags.webhook?.injection.registry).toBeUndefined();
  });

  it('--registry: image builds there, told to the webhook too, with the default assembler and deadline', () => {
    const flags = parseControllerFlags(
      ['--manage-certificates', '--registry', 'registry.example.com/functions/', '--registry-insecure'],
      inCluster,
    );
    expect(flags.builds).toEqual({
      registry: 'registry.example.com/functions',
      insecure: true,
      assemblerImage: 'ghcr.io/cloudbase-dev/assembler:0.1.0',
      deadlineSeconds: 600,
      keepImages: 3,
    });
    expect(flags.webhook?.injection.registry).toBe('registry.example.com/functions');
  });

  it.each([
    [
      ['--registry', 'https://registry.example.com'],
      /--registry="https:\/\/registry.example.com" is not a registry/,
    ],
    [['--registry-insecure'], /give --registry too/],
    [['--registry', 'r.example.com', '--build-deadline-seconds', '5'], /build-deadline-seconds/],
    [['--registry', 'r.example.com', '--build-keep-images', '1'], /build-keep-images/],
    [
      ['--registry', 'r.example.com', '--assembler-image', 'a b'],
      /--assembler-image "a b": expected an image/,
    ],
  ])('refuses %j, saying why', (argv, message) => {
    expect(() => parseControllerFlags(argv, inCluster)).toThrow(message);
  });

  it('--events-url: the bus the controller keeps consumers on, told to the webhook too; no bus without it', () => {
    const flags = parseControllerFlags(
      [
        '--manage-certificates',
        '--events-url',
        'nats://nats-0.nats:4222, nats://nats-1.nats:4222',
        '--events-replicas',
        '3',
      ],
      inCluster,
    );
    expect(flags.events).toEqual({ url: 'nats://nats-0.nats:4222,nats://nats-1.nats:4222', replicas: 3 });
    expect(flags.webhook?.injection.eventsUrl).toBe('nats://nats-0.nats:4222,nats://nats-1.nats:4222');
    const none = parseControllerFlags(['--manage-certificates'], inCluster);
    expect([none.events, none.webhook?.injection.eventsUrl]).toEqual([undefined, undefined]);
  });

  it.each([
    [['--events-url', 'http://nats:4222'], /"http:\/\/nats:4222" is not a NATS server URL/],
    [['--events-url', 'nats://a:4222,'], /"" is not a NATS server URL/],
    [['--events-replicas', '3'], /give --events-url too/],
    [['--events-url', 'nats://a:4222', '--events-replicas', '7'], /events-replicas/],
  ])('refuses the events flags %j, saying why', (argv, message) => {
    expect(() => parseControllerFlags(argv, inCluster)).toThrow(message);
  });

  it('--build-base-image: builds of that runtime go on that image, the others on the runtime image', () => {
    const flags = parseControllerFlags(
      [
        '--registry',
        'r.example.com',
        '--runtime-image',
        'nodejs22=a/rt:1',
        '--build-base-image',
        'nodejs22=r.example.com/rt:1',
      ],
      inCluster,
    );
    expect(flags.buildBaseImages.nodejs22).toBe('r.example.com/rt:1');
    expect(flags.runtimeImages.nodejs22).toBe('a/rt:1');
    expect(flags.buildBaseImages.nodejs24).toBe(flags.runtimeImages.nodejs24);
    expect(() => parseControllerFlags(['--build-base-image', 'deno=x'], inCluster)).toThrow(
      /--build-base-image "deno=x": use RUNTIME=IMAGE/,
    );
  });
});
