/**
 * The one way Cloudbase connects to the event bus: NATS with JetStream. Reconnects forever (a server that
 * restarts or a lame-duck server moves its clients to the others), logs every change of connection state.
 * https://docs.nats.io/using-nats/developer/connecting/reconnect
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, tokenAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export interface BusConnectOptions {
  /** `nats://host:port`, comma-separated for several. */
  servers: string;
  /** The connection's name, which the servers' monitoring shows (`cloudbase-controller`, a pod's name). */
  name: string;
  logger: Logger;
  /**
   * The service account token to present, read again on every connect and reconnect: the kubelet renews a
   * projected token in its file, and the bus ends a session when its token expires (contract/bus-access.ts).
   */
  token?: () => string;
  /** Where replies come (a function's pods may subscribe only under their own prefix). */
  inboxPrefix?: string;
}

/** Connects, waiting for the first server to answer; throws naming the servers when none does in time. */
export async function connectBus(options: BusConnectOptions, timeoutMs = 30_000): Promise<NatsConnection> {
  const servers = options.servers.split(',').map((server) => server.trim());
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await connect({
        servers,
        name: options.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: 5_000,
        ...(options.token === undefined ? {} : { authenticator: tokenAuthenticator(options.token) }),
        ...(options.inboxPrefix === undefined ? {} : { inboxPrefix: options.inboxPrefix }),
      });
      void logStatus(connection, options.logger);
      return connection;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`cannot reach the event bus at ${servers.join(', ')} within ${timeoutMs} ms: ${reason}`);
}

async function logStatus(connection: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of connection.status()) {
    if (status.type === 'ping' || status.type === 'staleConnection') continue;
    const level = status.type === 'disconnect' || status.type === 'error' ? 'warn' : 'info';
    logger[level]({ bus: status }, `event bus: ${status.type}`);
  }
}

/** A connection made and kept in the background: its JetStream manager once connected, else why not. */
export interface BusLink {
  manager(): JetStreamManager | Error;
  close(): Promise<void>;
}

/**
 * Connects in the background, trying until it succeeds (then the client reconnects by itself): the
 * controller keeps serving HTTP functions while the bus is unreachable, and what needs the bus fails fast
 * with the reason instead of waiting.
 */
export function linkBus(options: BusConnectOptions): BusLink {
  let manager: JetStreamManager | undefined;
  let connection: NatsConnection | undefined;
  let closed = false;
  let reason = 'connecting';
  const loop = async (): Promise<void> => {
    while (!closed && manager === undefined) {
      try {
        connection ??= await connectBus(options, 60_000);
        if (closed) break;
        manager = await jetstreamManager(connection);
        options.logger.info({ servers: options.servers }, 'event bus connected, JetStream available');
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
        options.logger.warn(
          { servers: options.servers, reason },
          'event bus not available yet; trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
  };
  const running = loop();
  return {
    manager: () =>
      manager ?? new Error(`the event bus at ${options.servers} is not available yet (${reason}); retried`),
    // Does not wait for a connection attempt under way: one that succeeds after this is closed at once.
    close: async () => {
      closed = true;
      await connection?.drain().catch(() => undefined);
      void running.then(() => connection?.close());
    },
  };
}
