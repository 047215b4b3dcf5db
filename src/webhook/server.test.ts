import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { generateCertificateAuthority, type KeyPairPem } from '../certs/authority.js';
import { generateRsaKeyPair } from '../certs/keys.js';
import { randomSerialNumber } from '../certs/serial.js';
import { loadSigningAuthority } from '../certs/signing-authority.js';
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

    it('reads a body of exactly 7 MiB (the limit is not 413)', async () => {
      const response = await post('/mutate', Buffer.alloc(7 * 1024 * 1024, ' '));
      expect(response.status).toBe(400);
    });

    // The client is still writing when the 413 is ready: a server that closes then resets the connection under
    // it, and the client may see the reset (EPIPE, ECONNRESET) before it reads the answer. A race, so several
    // tries, from another process as the API server is (in this process the event loop hides the race).
    it.each([
      ['with a content-length', false],
      ['chunked', true],
    ])('answers 8 MiB sent %s with 413 and a JSON message, every time', async (_case, chunked) => {
      const outcomes = await postFromAnotherProcess(`${harness.server.url}/mutate`, harness.ca, {
        bytes: 8 * 1024 * 1024,
        chunked,
        times: 30,
      });
      expect(outcomes).toEqual(
        Array.from({ length: 30 }, () => ({
          status: 413,
          connection: 'close',
          body: { error: 'Payload Too Large', message: 'Request body is too large' },
        })),
      );
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

describe('when a client CA is configured (--client-ca)', () => {
  const apiServerCa = generateCertificateAuthority({ commonName: 'webhook-client-ca', validityDays: 1 });
  const otherCa = generateCertificateAuthority({ commonName: 'someone-else', validityDays: 1 });
  const apiServer = issueClientCertificate(apiServerCa, 'kube-apiserver-webhook-client');
  const stranger = issueClientCertificate(otherCa, 'kube-apiserver-webhook-client');
  let dir: string;
  let clientCaFile: string;
  let harness: TestWebhookServer;
  const request = (path: string, client: KeyPairPem | undefined) =>
    httpsRequest(harness.server.url, {
      path,
      ...(path === '/mutate' || path === '/validate'
        ? {
            body: JSON.stringify(admissionReview(admissionRequest(minimalFunction()))),
            headers: JSON_HEADERS,
          }
        : {}),
      ca: harness.ca,
      // A new connection each time: the certificate is checked in the TLS handshake.
      agent: new Agent(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cloudbase-client-ca-'));
    clientCaFile = join(dir, 'ca.crt');
    await writeFile(clientCaFile, apiServerCa.certPem);
    harness = await startTestWebhookServer({ clientCaFile, pollIntervalMs: 100 });
  });
  afterAll(async () => {
    await harness.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['/mutate', '/validate'])(
    'reviews a caller whose certificate the CA signed, on %s',
    async (path) => {
      const response = await request(path, apiServer);
      expect(response.status).toBe(200);
      expect(response.json()).toMatchObject({ kind: 'AdmissionReview', response: { allowed: true } });
    },
  );

  it.each<[string, string, KeyPairPem | undefined, string]>([
    ['/mutate', 'no certificate', undefined, 'the connection presented no certificate'],
    ['/validate', 'no certificate', undefined, 'the connection presented no certificate'],
    [
      '/mutate',
      'a certificate of another CA',
      stranger,
      'the certificate presented does not verify against that CA',
    ],
    [
      '/validate',
      'a certificate of another CA',
      stranger,
      'the certificate presented does not verify against that CA',
    ],
  ])('refuses %s from a caller with %s: 401 saying what is required', async (path, _case, client, reason) => {
    const response = await request(path, client);
    expect(response.status).toBe(401);
    const body = response.json() as { error: string; message: string };
    expect(body.error).toBe('Unauthorized');
    expect(body.message).toContain(
      `a client certificate signed by the configured client CA (--client-ca) is required; ${reason}`,
    );
  });

  it('answers probes and /metrics without a certificate, and counts the refusals', async () => {
    await request('/mutate', undefined);
    for (const path of ['/healthz', '/readyz']) expect((await request(path, undefined)).status).toBe(200);
    const metrics = await request('/metrics', undefined);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(
      /cloudbase_admission_errors_total\{webhook="mutate",reason="unauthenticated"\} [1-9]/,
    );
  });

  it('trusts a CA written over the file from the next connection on, and keeps it over one that does not load', async () => {
    await writeFile(clientCaFile, otherCa.certPem);
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await request('/mutate', stranger)).status;
    }
    expect(status).toBe(200);
    expect((await request('/mutate', apiServer)).status).toBe(401);

    await writeFile(clientCaFile, 'not a certificate');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await request('/mutate', stranger)).status).toBe(200);
    const metrics = (await request('/metrics', undefined)).text;
    expect(metrics).toMatch(/cloudbase_webhook_client_ca_reloads_total\{result="loaded"\} 1/);
    expect(metrics).toMatch(/cloudbase_webhook_client_ca_reloads_total\{result="rejected"\} [1-9]/);
  });
});

describe('TEST_CONFIG', () => {
  it('points at the test registry', () => {
    expect(TEST_CONFIG.runtimeImages.nodejs22).toBe('registry.test/cloudbase/runtime-nodejs22:1.0.0');
  });
});

interface PostOutcome {
  status?: number;
  connection?: string;
  body?: unknown;
  error?: string;
}

// One request at a time, each on a new connection, writing the whole body whatever the server answers.
const POSTING_CLIENT = `
const { request, Agent } = require('node:https');
const { url, ca, bytes, chunked, times } = JSON.parse(process.argv[1]);
const body = Buffer.alloc(bytes, ' ');
const post = () => new Promise((resolve) => {
  const headers = { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': bytes }) };
  const req = request(url, { method: 'POST', headers, ca, agent: new Agent() }, (res) => {
    const chunks = [];
    res.on('data', (chunk) => chunks.push(chunk));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed = text;
      try { parsed = JSON.parse(text); } catch {}
      resolve({ status: res.statusCode, connection: res.headers.connection, body: parsed });
    });
    res.on('error', (error) => resolve({ error: error.code ?? error.message }));
  });
  req.on('error', (error) => resolve({ error: error.code ?? error.message }));
  const size = chunked ? 1024 * 1024 : bytes;
  for (let offset = 0; offset < bytes; offset += size) req.write(body.subarray(offset, offset + size));
  req.end();
});
(async () => {
  const outcomes = [];
  for (let i = 0; i < times; i++) outcomes.push(await post());
  process.stdout.write(JSON.stringify(outcomes));
})();
`;

/** Posts `bytes` spaces `times` times from a child Node.js process; resolves with each answer or error code. */
async function postFromAnotherProcess(
  url: string,
  ca: string,
  options: { bytes: number; chunked: boolean; times: number },
): Promise<PostOutcome[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-e', POSTING_CLIENT, JSON.stringify({ url, ca, ...options })],
    { maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(stdout) as PostOutcome[];
}

/** A TLS client certificate (extKeyUsage clientAuth) signed by `ca`, like the API server's for webhooks. */
function issueClientCertificate(ca: KeyPairPem, commonName: string): KeyPairPem {
  const authority = loadSigningAuthority(ca, new Date());
  const keys = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  cert.setSubject([{ shortName: 'CN', value: commonName }]);
  cert.setIssuer(authority.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: authority.keyIdentifier },
  ]);
  cert.sign(authority.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}
