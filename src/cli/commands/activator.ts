import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { startActivator } from '../../activator/activator.js';
import { connect } from '../../kube/client.js';
import { createLogger } from '../../log.js';
import { integerFlag, shutdownSignal, UsageError, type Command } from '../command.js';

const usage =
  'cloudbase activator [--kubeconfig PATH] [--host 0.0.0.0] [--port 8080] [--admin-port 9090] ' +
  '[--max-held 1000] [--hold-timeout-seconds 30] [--drain-seconds 5] [--peers NS/SERVICE [--pod-ip IP]]';

/** `cloudbase activator`: holds the requests of functions at zero while they wake, until SIGTERM. */
export const activatorCommand: Command = {
  name: 'activator',
  summary: 'hold requests for functions at zero, wake them, and stream the requests to their first ready pod',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'string', default: '8080' },
        'admin-port': { type: 'string', default: '9090' },
        'max-held': { type: 'string', default: '1000' },
        'hold-timeout-seconds': { type: 'string', default: '30' },
        'drain-seconds': { type: 'string', default: '5' },
        peers: { type: 'string' },
        'pod-ip': { type: 'string' },
      },
    });
    const peers = peersFlag(values.peers);
    const podIp = values['pod-ip'];
    if (podIp !== undefined && isIP(podIp) === 0)
      throw new UsageError(`--pod-ip ${JSON.stringify(podIp)}: expected this pod's IP address`);
    const logger = createLogger('activator');
    const activator = await startActivator({
      kube: connect(values.kubeconfig),
      logger,
      host: values.host,
      port: integerFlag('port', values.port, 1, 65_535),
      adminPort: integerFlag('admin-port', values['admin-port'], 1, 65_535),
      maxHeld: integerFlag('max-held', values['max-held'], 1, 1_000_000),
      holdTimeoutMs: integerFlag('hold-timeout-seconds', values['hold-timeout-seconds'], 1, 3600) * 1000,
      drainMs: integerFlag('drain-seconds', values['drain-seconds'], 0, 300) * 1000,
      ...(peers === undefined ? {} : { peers }),
      ...(podIp === undefined ? {} : { podIp }),
    });
    io.stdout(`cloudbase activator on ${activator.url}, admin ${activator.adminUrl}`);
    await shutdownSignal();
    await activator.shutdown();
    return 0;
  },
};

/** `--peers NS/SERVICE`: the activator's own Service, whose other pods get the announcements passed on. */
function peersFlag(value: string | undefined): { namespace: string; service: string } | undefined {
  if (value === undefined) return undefined;
  const match = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(value);
  if (match === null)
    throw new UsageError(
      `--peers ${JSON.stringify(value)}: expected <namespace>/<service>, e.g. cloudbase-system/cloudbase-activator`,
    );
  return { namespace: match[1]!, service: match[2]! };
}
