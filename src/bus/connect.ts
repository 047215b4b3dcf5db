/**
 * The one way Cloudbase connects to the event bus: NATS with JetStream. Reconnects forever (a server that
 * restarts or a lame-duck server moves its clients to the others), logs every change of connection state.
 * https://docs.nats.io/using-nats/developer/connecting/reconnect
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export interface BusConnectOptions {
  /** `nats://host:port`, comma-separated for several. */
  servers: string;
  /** The connection's name, which the servers' monitoring shows (`cloudbase-controller`, a pod's name). */
  name: string;
  logger: Logger;
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
