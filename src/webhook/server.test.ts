import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent } from 'node:https';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { admissionRequest, admissionReview, minimalFunction, TEST_CONFIG } from '../testing/fixtures.js';
import { httpsRequest } from '../testing/https-client.js';
import { startTestWebhookServer, type TestWebhookServer } from '../testing/webhook-server.js';
import type { InjectionConfig } from '../admission/inject/config.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('the webhook server over HTTPS', () => {
  let harness: TestWebhookServer;
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = JSON_HEADERS) =>
    httpsRequest(harness.server.url, { path, body, headers, ca: harness.ca });

  beforeAll(async () => {
    harness = await startTestWebhookServer();
  });
  afterAll(async () => {
    await harness.stop();
  });

  describe('when given a valid review', () => {
    it('answers /mutate with the uid echoed and a JSONPatch', async () => {
      const request = admissionRequest(minimalFunction());
      const response = await post('/mutate', JSON.stringify(admissionReview(request)));
      expect(response.status).toBe(200);
      expect(response.json()).toMatchObject({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: request.uid, allowed: true, status: { code: 200 }, patchType: 'JSONPatch' },
      });
    });

    it('answers /validate of a wrong function with the message saying what to fix', async () => {
      const request = admissionRequest(minimalFunction({ 'cloudbase.dev/signature': 'azure' }));
      const response = await post('/validate', JSON.stringify(admissionReview(request)), {
        'content-type': 'application/json; charset=utf-8',
      });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid: request.uid,
          allowed: false,
          status: {
            code: 403,
            reason: 'Forbidden',
            message:
              'cloudbase.dev/signature="azure" is not a supported signature; use one of fetch, openfaas, fission, kubeless, knative',
          },
        },
      });
    });

    it('verifies as cloudbase-webhook.cloudbase-system.svc, the name the API server uses', async () => {
      const response = await httpsRequest(harness.server.url, {
        path: '/healthz',
        ca: harness.ca,
        servername: 'cloudbase-webhook.cloudbase-system.svc',
      });
      expect(response.status).toBe(200);
    });
  });

  describe('when given bad input', () => {
    const review = JSON.stringify(admissionReview(admissionRequest(minimalFunction())));
    it.each<[string, string | Buffer, Record<string, string>, number, RegExp]>([
      ['a body that is not JSON', '{"apiVersion": ', JSON_HEADERS, 400, /JSON/i],
      ['an empty body', '', JSON_HEADERS, 400, /empty/i],
      ['JSON that is not an AdmissionReview', '{"hello":"world"}', JSON_HEADERS, 400, /apiVersion/],
      [
        'a review without a uid',
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}',
        JSON_HEADERS,
        400,
        /uid/,
      ],
      [
        'an AdmissionReview of v1beta1',
        review.replace('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'),
        JSON_HEADERS,
        400,
        /apiVersion/,
      ],
      ['a wrong content type', review, { 'content-type': 'text/plain' }, 400, /application\/json/],
      ['no content type', review, {}, 400, /application\/json/],
      [
        'containers that are not a list',
        review.replace('"containers":[', '"containers":{"x":[').replace(']}}}}', ']}}}}}'),
        JSON_HEADERS,
        400,
        /containers/,
      ],
      [
        'a prototype-polluting key',
        review.replace('{"uid"', '{"__proto__":{"x":1},"uid"'),
        JSON_HEADERS,
        400,
        /.+/,
      ],
    ])(
      'answers %s with the status and message naming the problem',
      async (_case, body, headers, status, message) => {
        const response = await post('/mutate', body, headers);
        expect(response.status).toBe(status);
        expect((response.json() as { message: string }).message).toMatch(message);
      },
    );

    it('answers a body over 7 MiB with 413, from its content-length', async () => {
      const response = await post('/mutate', Buffer.alloc(7 * 1024 * 1024 + 1, ' '));
      expect(response.status).toBe(413);
    });

    it('answers a chunked body that grows over 7 MiB with 413', async () => {
      const response = await httpsRequest(harness.server.url, {
        path: '/validate',
        body: Buffer.alloc(8 * 1024 * 1024, ' '),
        headers: JSON_HEADERS,
        ca: harness.ca,
        chunked: true,
      });
      expect(response.status).toBe(413);
    });

    it('answers an unknown route with 404', async () => {
      expect((await post('/admit', review)).status).toBe(404);
    });

    it('refuses TLS 1.1', async () => {
      const { port } = new URL(harness.server.url);
      const error = await new Promise<Error>((resolve) => {
        const socket = connect({
          host: '127.0.0.1',
          port: Number(port),
          ca: harness.ca,
          maxVersion: 'TLSv1.1',
          minVersion: 'TLSv1',
        });
        socket.on('error', resolve);
        socket.on('secureConnect', () => resolve(new Error('connected')));
      });
      expect(error.message).not.toBe('connected');
    });
  });

  describe('its health and metrics', () => {
    it('answers /healthz and /readyz', async () => {
      expect((await httpsRequest(harness.server.url, { path: '/healthz', ca: harness.ca })).status).toBe(200);
      expect((await httpsRequest(harness.server.url, { path: '/readyz', ca: harness.ca })).json()).toEqual({
        status: 'ready',
      });
    });

    it('exposes admission latency by webhook and decision, and error counts', async () => {
      await post('/mutate', JSON.stringify(admissionReview(admissionRequest(minimalFunction()))));
      await post('/validate', 'not json');
      const metrics = (await httpsRequest(harness.server.url, { path: '/metrics', ca: harness.ca })).text;
      expect(metrics).toMatch(
        /cloudbase_admission_duration_seconds_count\{webhook="mutate",decision="patched"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /cloudbase_admission_errors_total\{webhook="validate",reason="bad_request"\} [1-9]/,
      );
    });

    it('sets header and request timeouts against slow clients', () => {
      const server = harness.server.app.server;
      expect(server.headersTimeout).toBe(10_000);
      expect(server.requestTimeout).toBe(30_000);
    });
  });
});

describe('when a decision throws', () => {
  it('answers a 500 review response with the uid, and keeps serving', async () => {
    const broken = {
      get runtimeImages(): InjectionConfig['runtimeImages'] {
        throw new Error('boom');
      },
    } as InjectionConfig;
    const harness = await startTestWebhookServer({ injection: broken });
    try {
      const request = admissionRequest(minimalFunction());
      const response = await httpsRequest(harness.server.url, {
        path: '/mutate',
        body: JSON.stringify(admissionReview(request)),
        headers: JSON_HEADERS,
        ca: harness.ca,
      });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid: request.uid,
          allowed: false,
          status: {
            code: 500,
            reason: 'InternalError',
            message: `cloudbase mutate webhook failed; see its logs for uid ${request.uid}`,
          },
        },
      });
      expect((await httpsRequest(harness.server.url, { path: '/healthz', ca: harness.ca })).status).toBe(200);
    } finally {
      await harness.stop();
    }
  });
});

describe('when the certificate files change on disk', () => {
  it('serves the new certificate to new connections without dropping an open one', async () => {
    const harness = await startTestWebhookServer({ pollIntervalMs: 100 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await httpsRequest(harness.server.url, { path: '/healthz', ca: harness.ca, agent });
      const oldSerial = first.peerSerial;
      const newCa = await harness.rotate();
      const bothCas = [harness.ca, newCa];

      let newSerial: string | undefined;
      for (let attempt = 0; attempt < 50 && (newSerial === undefined || newSerial === oldSerial); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const fresh = await httpsRequest(harness.server.url, {
          path: '/healthz',
          ca: bothCas,
          agent: new Agent(),
        });
        newSerial = fresh.peerSerial;
      }
      expect(newSerial).toBeDefined();
      expect(newSerial).not.toBe(oldSerial);
      expect(new X509Certificate(newCa).checkIssued(new X509Certificate(newCa))).toBe(true);

      const again = await httpsRequest(harness.server.url, { path: '/healthz', ca: harness.ca, agent });
      expect(again.status).toBe(200);
      // The same TLS connection, opened before the rotation, still serves requests.
      expect(again.socket).toBe(first.socket);
    } finally {
      agent.destroy();
      await harness.stop();
    }
  });
});

describe('TEST_CONFIG', () => {
  it('points at the test registry', () => {
    expect(TEST_CONFIG.runtimeImages.nodejs22).toBe('registry.test/cloudbase/runtime-nodejs22:1.0.0');
  });
});
