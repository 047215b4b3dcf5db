import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import { generateCertificateAuthority, issueServingCertificate } from './authority.js';

const SERVICE = 'webhook';
const NAMESPACE = 'cloudbase-system';

const ca = generateCertificateAuthority({ validityDays: 1 });
const serving = issueServingCertificate(ca, {
  service: SERVICE,
  namespace: NAMESPACE,
  ips: ['127.0.0.1'],
  validityDays: 1,
});
const otherCa = generateCertificateAuthority({ validityDays: 1 });

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

/** GETs / over TLS from 127.0.0.1 and resolves to the body, or rejects with the TLS client's error. */
function fetchOverTls(options: { ca: string; servername?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/', agent: false, ...options }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

describe('a real HTTPS server using the issued certificate', () => {
  it.each([`${SERVICE}.${NAMESPACE}.svc`, `${SERVICE}.${NAMESPACE}.svc.cluster.local`, SERVICE])(
    'is trusted by a client that trusts the CA and asks for %s',
    async (servername) => {
      await expect(fetchOverTls({ ca: ca.certPem, servername })).resolves.toBe('ok');
    },
  );

  it('is trusted by a client that connects to its IP SAN, 127.0.0.1', async () => {
    await expect(fetchOverTls({ ca: ca.certPem })).resolves.toBe('ok');
  });

  it('is refused for a name it was not issued for', async () => {
    await expect(
      fetchOverTls({ ca: ca.certPem, servername: `other.${NAMESPACE}.svc` }),
    ).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('is refused by a client that trusts a different CA', async () => {
    await expect(
      fetchOverTls({ ca: otherCa.certPem, servername: `${SERVICE}.${NAMESPACE}.svc` }),
    ).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });
});
