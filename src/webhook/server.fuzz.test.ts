import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent } from 'node:https';
import fc from 'fast-check';
import { admissionRequest, admissionReview, minimalFunction } from '../testing/fixtures.js';
import { httpsRequest } from '../testing/https-client.js';
import { startTestWebhookServer, type TestWebhookServer } from '../testing/webhook-server.js';
import { mutate } from '../admission/mutate.js';
import { TEST_CONFIG, decodePatch } from '../testing/fixtures.js';
import { fuzzParameters } from '../testing/fuzz-seed.js';
import jsonPatch from 'fast-json-patch';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A realistic review: an already-mutated function, so the body has every field the webhooks read. */
function realisticReview(): Json {
  const deployment = minimalFunction({ 'cloudbase.dev/route': '/api/hello', 'example.com/a~b': 'x' });
  const patch = decodePatch(
    mutate(admissionRequest(deployment), TEST_CONFIG).response.patch,
  ) as jsonPatch.Operation[];
  const mutated = jsonPatch.applyPatch(structuredClone(deployment), patch, true, false).newDocument;
  return JSON.parse(JSON.stringify(admissionReview(admissionRequest(mutated, 'UPDATE')))) as Json;
}

/** Every path in a JSON tree, as lists of keys and indexes. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const children = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...children.flatMap(([key, child]) => paths(child, [...prefix, key]))];
}

function setAt(root: Json, path: (string | number)[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(root);
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else {
    node[last] = replacement;
  }
  return copy;
}

const base = realisticReview();
const baseText = JSON.stringify(base);
const allPaths = paths(base);

/** Corruptions of a valid review: structural (a field replaced or removed) and textual (bytes broken). */
const corruptedBody: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: allPaths.length - 1 }),
      fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
    )
    .map(([i, value]) => JSON.stringify(setAt(base, allPaths[i]!, value as Json | undefined))),
  fc.integer({ min: 0, max: baseText.length - 1 }).map((cut) => baseText.slice(0, cut)),
  fc
    .tuple(fc.integer({ min: 0, max: baseText.length - 1 }), fc.string({ minLength: 1, maxLength: 4 }))
    .map(([at, text]) => baseText.slice(0, at) + text + baseText.slice(at + 1)),
  fc.string({ maxLength: 64 }),
);

describe('the webhook server, fed a few thousand corrupted reviews', () => {
  let harness: TestWebhookServer;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  beforeAll(async () => {
    harness = await startTestWebhookServer();
  });
  afterAll(async () => {
    agent.destroy();
    await harness.stop();
  });

  it('never crashes and never answers 5xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(corruptedBody, fc.constantFrom('/mutate', '/validate'), async (body, path) => {
        const response = await httpsRequest(harness.server.url, {
          path,
          body,
          headers: { 'content-type': 'application/json' },
          ca: harness.ca,
          agent,
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect([200, 400]).toContain(response.status);
        const answer = response.json() as {
          response?: { uid: string; status: { code: number } };
          message?: string;
        };
        if (response.status === 200) expect(answer.response!.status.code).toBeLessThan(500);
        else expect(answer.message).toEqual(expect.any(String));
      }),
      { ...fuzzParameters(), numRuns: 3000 },
    );
    // Both outcomes must have happened, or the corruption is not exercising the decoder.
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(statuses.get(400)).toBeGreaterThan(100);
    const health = await httpsRequest(harness.server.url, { path: '/healthz', ca: harness.ca, agent });
    expect(health.status).toBe(200);
  }, 120_000);
});
