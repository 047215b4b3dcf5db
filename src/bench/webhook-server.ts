// The server side of `npm run bench:webhook`: the real webhook server, in its own process (its own core),
// with one extra no-op route that parses the same body and answers without deciding anything.
import { pino } from 'pino';
import { defaultInjectionConfig } from '../admission/inject/config.js';
import { startWebhookServer } from '../webhook/server.js';

const certDir = process.argv[2];
if (certDir === undefined) throw new Error('usage: webhook-server.js CERT_DIR');

const server = await startWebhookServer({
  certDir,
  port: 0,
  host: '127.0.0.1',
  injection: defaultInjectionConfig(),
  // Production logs one line per review; keep that cost in the measurement, just not on the terminal.
  logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
  configure: (app) => {
    app.post<{ Body: { request?: { uid?: string } } }>('/noop', async (request) => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: request.body.request?.uid ?? '', allowed: true, status: { code: 200 } },
    }));
  },
});
process.send?.({ url: server.url });
process.on('disconnect', () => {
  void server.close().then(() => process.exit(0));
});
