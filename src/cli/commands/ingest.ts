import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { parseArgs } from 'node:util';
import { linkBus } from '../../bus/connect.js';
import { publish } from '../../bus/publish.js';
import { consumerFilters } from '../../bus/streams.js';
import { EVENTS_STREAM } from '../../contract/event-bus.js';
import { INGEST_AUDIENCE, PUBLISH_ACCESS } from '../../contract/event-ingest.js';
import { buildIngestApp } from '../../ingest/app.js';
import { PublishAuthorizer } from '../../ingest/authorize.js';
import { EventInterest } from '../../ingest/interest.js';
import { connect, reviewAccess, reviewToken } from '../../kube/client.js';
import { createLogger } from '../../log.js';
import { eventsUrlFlag, integerFlag, shutdownSignal, UsageError, type Command } from '../command.js';

const usage =
  'cloudbase ingest --events-url nats://HOST:PORT[,...] [--kubeconfig PATH] [--host 0.0.0.0] [--port 8080] ' +
  '[--drain-seconds 5]';

/** `cloudbase ingest`: takes CloudEvents over HTTP and publishes them onto the event bus, until SIGTERM. */
export const ingestCommand: Command = {
  name: 'ingest',
  summary:
    'take CloudEvents over HTTP (POST /namespaces/<namespace>/events) and publish them onto the event bus',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'events-url': { type: 'string' },
        kubeconfig: { type: 'string' },
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'string', default: '8080' },
        'drain-seconds': { type: 'string', default: '5' },
      },
    });
    if (values['events-url'] === undefined)
      throw new UsageError('--events-url is required: the event bus the events are published onto');
    const servers = eventsUrlFlag(values['events-url']);
    const port = integerFlag('port', values.port, 1, 65_535);
    const drainMs = integerFlag('drain-seconds', values['drain-seconds'], 0, 300) * 1000;
    const logger = createLogger('ingest');
    const kube = connect(values.kubeconfig);
    const bus = linkBus({
      servers,
      name: `cloudbase-ingest ${process.env['HOSTNAME'] ?? ''}`.trim(),
      logger,
    });
    let stopping = false;
    const authorizer = new PublishAuthorizer({
      review: (token) => reviewToken(kube, token, INGEST_AUDIENCE),
      access: (user, namespace) => reviewAccess(kube, user, { ...PUBLISH_ACCESS, namespace }),
    });
    const interest = new EventInterest({
      listFilters: async () => consumerFilters(orThrow(bus.manager()), EVENTS_STREAM),
    });
    const app = buildIngestApp({
      logger,
      authorize: (authorization, namespace) => authorizer.authorize(authorization, namespace),
      untaken: (subjects) => interest.untaken(subjects),
      publish: async (namespace, event) => publish(clientOf(orThrow(bus.manager())), namespace, event),
      notReady: () => {
        if (stopping) return 'shutting down';
        const manager = bus.manager();
        return manager instanceof Error ? manager.message : undefined;
      },
    });
    const address = await app.listen({ host: values.host, port });
    io.stdout(`cloudbase ingest on ${address}, publishing to ${servers}`);
    await shutdownSignal();
    // Not ready first, and a moment for the endpoint's removal to reach Traefik and kube-proxy; then the
    // requests under way finish before the connection to the bus drains.
    stopping = true;
    await new Promise((resolve) => setTimeout(resolve, drainMs));
    await app.close();
    await bus.close();
    return 0;
  },
};

const clients = new WeakMap<JetStreamManager, JetStreamClient>();
/** One JetStream client per connection's manager, made on first use. */
function clientOf(manager: JetStreamManager): JetStreamClient {
  let client = clients.get(manager);
  if (client === undefined) clients.set(manager, (client = manager.jetstream()));
  return client;
}

function orThrow<T>(value: T | Error): T {
  if (value instanceof Error) throw value;
  return value;
}
