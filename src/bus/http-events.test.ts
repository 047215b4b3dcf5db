import { describe, expect, it } from '@jest/globals';
import { decodeHttpEvents, isHttpEvent } from './http-events.js';

const binary = {
  'ce-specversion': '1.0',
  'ce-id': 'o-1',
  'ce-source': '/shop',
  'ce-type': 'orders.created',
  'ce-time': '2026-12-03T00:00:00Z',
  'ce-tenant': 'acme',
  'content-type': 'application/json',
};

describe('decodeHttpEvents', () => {
  it('decodes a binary-mode event, keeping the data bytes as sent and the extensions', () => {
    const result = decodeHttpEvents(binary, Buffer.from('{"n":1}'));
    expect(result).toEqual({
      ok: true,
      events: [
        {
          attributes: {
            specversion: '1.0',
            id: 'o-1',
            source: '/shop',
            type: 'orders.created',
            time: '2026-12-03T00:00:00.000Z',
            datacontenttype: 'application/json',
            extensions: { tenant: 'acme' },
          },
          data: Buffer.from('{"n":1}'),
        },
      ],
    });
  });

  it('decodes a structured event', () => {
    const body = JSON.stringify({ specversion: '1.0', id: '2', source: '/s', type: 't', data: { y: 2 } });
    const result = decodeHttpEvents({ 'content-type': 'application/cloudevents+json' }, Buffer.from(body));
    expect(result.ok && result.events.map((e) => [e.attributes.id, Buffer.from(e.data).toString()])).toEqual([
      ['2', '{"y":2}'],
    ]);
  });

  it('decodes a batch, binary data included', () => {
    const body = JSON.stringify([
      { specversion: '1.0', id: '1', source: '/s', type: 't', data: 'text' },
      { specversion: '1.0', id: '2', source: '/s', type: 't', data_base64: 'AQID' },
    ]);
    const result = decodeHttpEvents(
      { 'content-type': 'application/cloudevents-batch+json' },
      Buffer.from(body),
    );
    expect(result.ok && result.events.map((e) => [...e.data])).toEqual([
      [116, 101, 120, 116],
      [1, 2, 3],
    ]);
  });

  it.each<[string, Record<string, string>, string, string]>([
    [
      'a plain request',
      { 'content-type': 'application/json' },
      '{}',
      'the request is not a CloudEvent: send ce-specversion, ce-id, ce-source and ce-type headers (binary mode), or a body of content type application/cloudevents+json or application/cloudevents-batch+json',
    ],
    [
      'a binary event with no id',
      { 'ce-specversion': '1.0', 'ce-source': '/s', 'ce-type': 't' },
      '',
      'the CloudEvent has no ce-id header',
    ],
    [
      'a structured event with no id (the SDK would invent one)',
      { 'content-type': 'application/cloudevents+json' },
      '{"specversion":"1.0","source":"/s","type":"t"}',
      'the CloudEvent has no id',
    ],
    [
      'a structured body that is not JSON',
      { 'content-type': 'application/cloudevents+json' },
      '{bad',
      'the body is not JSON: ',
    ],
    [
      'a batch that is not an array',
      { 'content-type': 'application/cloudevents-batch+json' },
      '{}',
      'a application/cloudevents-batch+json body is a JSON array of events',
    ],
    [
      'a batch item without a type',
      { 'content-type': 'application/cloudevents-batch+json' },
      '[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"1.0","id":"2","source":"/s"}]',
      'event 1 of the batch has no type',
    ],
    [
      'an empty batch',
      { 'content-type': 'application/cloudevents-batch+json' },
      '[]',
      'the batch holds no event',
    ],
    [
      'an unknown spec version',
      { ...binary, 'ce-specversion': '0.1' },
      '',
      'specversion "0.1" is not supported; use 1.0',
    ],
    [
      'a source that is empty',
      { ...binary, 'ce-source': '' },
      '',
      'the CloudEvent is not valid: source must NOT have fewer than 1 characters',
    ],
  ])('refuses %s, saying why', (_case, headers, body, problem) => {
    const result = decodeHttpEvents(headers, Buffer.from(body));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem.slice(0, problem.length)).toBe(problem);
  });
});

describe('isHttpEvent', () => {
  it.each([
    [binary, true],
    [{ 'content-type': 'application/cloudevents+json; charset=utf-8' }, true],
    [{ 'content-type': 'application/json' }, false],
  ])('%j is %s', (headers, expected) => {
    expect(isHttpEvent(headers)).toBe(expected);
  });
});
