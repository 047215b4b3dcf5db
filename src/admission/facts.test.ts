import { describe, expect, it } from '@jest/globals';
import { readAdmissionFacts } from './facts.js';
import { admissionRequest, minimalFunction } from '../testing/fixtures.js';

describe('readAdmissionFacts', () => {
  it("reads the keys of the function's source ConfigMap in its namespace", async () => {
    const asked: string[] = [];
    const facts = await readAdmissionFacts(admissionRequest(minimalFunction()), async (namespace, name) => {
      asked.push(`${namespace}/${name}`);
      return ['index.js'];
    });
    expect(asked).toEqual(['demo/hello-code']);
    expect(facts).toEqual({ now: expect.any(Date), configMapKeys: ['index.js'] });
  });

  it('leaves the fact out when the lookup fails or finds nothing', async () => {
    const request = admissionRequest(minimalFunction());
    const onlyTime = { now: expect.any(Date) };
    expect(await readAdmissionFacts(request, async () => undefined)).toEqual(onlyTime);
    expect(await readAdmissionFacts(request, () => Promise.reject(new Error('HTTP 403')))).toEqual(onlyTime);
  });

  it('asks nothing for other sources, invalid functions, deletes, or without a lookup', async () => {
    const asked: string[] = [];
    const lookup = async (namespace: string, name: string) => (asked.push(name), ['index.js']);
    const tarball = minimalFunction({
      'cloudbase.dev/source': 'https://example.com/fn.tgz',
      'cloudbase.dev/source-sha256': 'b'.repeat(64),
    });
    const invalid = minimalFunction({ 'cloudbase.dev/source': 'ftp://nope' });
    for (const request of [
      admissionRequest(tarball),
      admissionRequest(invalid),
      admissionRequest(minimalFunction(), 'DELETE'),
      admissionRequest(null),
    ]) {
      expect(await readAdmissionFacts(request, lookup)).toEqual({ now: expect.any(Date) });
    }
    expect(await readAdmissionFacts(admissionRequest(minimalFunction()), undefined)).toEqual({
      now: expect.any(Date),
    });
    expect(asked).toEqual([]);
  });
});
