import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { connectBus } from '../../bus/connect.js';
import { listDeadLetters, replayDeadLetters } from '../../bus/dead-letters.js';
import { isDns1123Label } from '../../contract/names.js';
import { eventsUrlFlag, integerFlag, UsageError, type Command } from '../command.js';

const usage =
  'cloudbase dead-letters list --events-url nats://HOST:PORT --namespace NS [--function FN] [--limit 100]\n' +
  '       cloudbase dead-letters replay --events-url nats://HOST:PORT --namespace NS --function FN (--seq N[,N...] | --all)';

/** The most dead letters one command lists or replays. */
const MAX_LETTERS = 10_000;

/**
 * `cloudbase dead-letters`: lists a namespace's dead-lettered events (one JSON line each, oldest first), or
 * replays some or all of one function's to that function alone (one JSON line per event, then a summary);
 * exits 1 when any replay failed, each failure named.
 */
export const deadLettersCommand: Command = {
  name: 'dead-letters',
  summary: 'list the events event functions gave up on, or replay them to the function that did',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        'events-url': { type: 'string' },
        namespace: { type: 'string' },
        function: { type: 'string' },
        limit: { type: 'string', default: '100' },
        seq: { type: 'string' },
        all: { type: 'boolean', default: false },
      },
    });
    const [action, ...extra] = positionals;
    if (action !== 'list' && action !== 'replay')
      throw new UsageError(`expected "list" or "replay", not ${JSON.stringify(action ?? '')}`);
    if (extra.length > 0) throw new UsageError(`unexpected ${JSON.stringify(extra.join(' '))}`);
    if (values['events-url'] === undefined) throw new UsageError('--events-url is required: the event bus');
    const servers = eventsUrlFlag(values['events-url']);
    const namespace = labelFlag('namespace', values.namespace, true)!;
    const fn = labelFlag('function', values.function, action === 'replay');
    const seqs = action === 'replay' ? seqFlag(values.seq, values.all) : undefined;
    if (action === 'list' && (values.seq !== undefined || values.all))
      throw new UsageError('--seq and --all go with replay');
    const limit = integerFlag('limit', values.limit, 1, MAX_LETTERS);

    // Errors of the connection go to stderr as JSON; stdout is the command's answer only.
    const logger = pino({ name: 'dead-letters', level: 'warn' }, pino.destination(2));
    const connection = await connectBus({ servers, name: 'cloudbase dead-letters', logger }, 15_000);
    try {
      const js = jetstream(connection);
      const jsm = await jetstreamManager(connection);
      if (action === 'list') {
        const letters = await listDeadLetters(js, jsm, {
          namespace,
          ...(fn === undefined ? {} : { function: fn }),
          limit,
        });
        for (const letter of letters) io.stdout(JSON.stringify(letter));
        return 0;
      }
      const target = { namespace, function: fn! };
      const chosen =
        seqs ??
        (await listDeadLetters(js, jsm, { ...target, limit: MAX_LETTERS })).map((letter) => letter.seq);
      const outcomes = await replayDeadLetters(js, jsm, target, chosen);
      for (const outcome of outcomes) io.stdout(JSON.stringify(outcome));
      const failed = outcomes.filter((o) => o.outcome === 'failed').length;
      io.stdout(JSON.stringify({ replayed: outcomes.length - failed, failed }));
      return failed === 0 ? 0 : 1;
    } finally {
      await connection.close();
    }
  },
};

/** `--namespace` or `--function`: a DNS label (what both are in Kubernetes). */
function labelFlag(name: string, value: string | undefined, required: boolean): string | undefined {
  if (value === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (!isDns1123Label(value))
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected a DNS label, as Kubernetes names it`);
  return value;
}

/** `--seq 12,15` or `--all` (undefined: every dead letter of the function); one of them, not both. */
function seqFlag(value: string | undefined, all: boolean): number[] | undefined {
  if (value !== undefined && all) throw new UsageError('--seq and --all: give one of them');
  if (value === undefined) {
    if (!all) throw new UsageError('replay needs --seq N[,N...] or --all');
    return undefined;
  }
  const seqs = value.split(',').map((item) => integerFlag('seq', item.trim(), 1, Number.MAX_SAFE_INTEGER));
  return [...new Set(seqs)];
}
