import { describe, expect, it } from '@jest/globals';
import { isValidStatus, responseHead, writableHeaders } from './response-head.js';

describe('responseHead', () => {
  it.each([
    [
      'a string without a type as UTF-8 text',
      { status: 200, headers: {}, body: 'héllo' },
      { 'content-type': 'text/plain; charset=utf-8', 'content-length': '6' },
      'héllo',
    ],
    [
      'bytes without a type as octet-stream',
      { status: 200, headers: {}, body: Buffer.from([1, 2, 3]) },
      { 'content-type': 'application/octet-stream', 'content-length': '3' },
      Buffer.from([1, 2, 3]),
    ],
    [
      "the function's own type",
      { status: 201, headers: { 'Content-Type': 'text/html' }, body: '<p>' },
      { 'content-type': 'text/html', 'content-length': '3' },
      '<p>',
    ],
    [
      'JSON text with a charset added',
      { status: 200, headers: { 'content-type': 'application/ld+json' }, body: '{}' },
      { 'content-type': 'application/ld+json; charset=utf-8', 'content-length': '2' },
      '{}',
    ],
    [
      'JSON text that names its charset as it is',
      { status: 200, headers: { 'content-type': 'application/json; Charset=latin1' }, body: '{}' },
      { 'content-type': 'application/json; Charset=latin1', 'content-length': '2' },
      '{}',
    ],
    [
      'JSON bytes as they are',
      { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') },
      { 'content-type': 'application/json', 'content-length': '2' },
      Buffer.from('{}'),
    ],
    [
      'an empty body with a zero length',
      { status: 200, headers: {}, body: '' },
      { 'content-type': 'text/plain; charset=utf-8', 'content-length': '0' },
      '',
    ],
    [
      'a 204 without type, length or body',
      { status: 204, headers: { 'content-type': 'text/plain', 'x-a': '1' }, body: 'ignored' },
      { 'x-a': '1' },
      '',
    ],
  ])('writes %s', (_name, response, headers, body) => {
    expect(responseHead(response, 'req-1')).toEqual({
      status: response.status,
      headers: { ...headers, 'x-request-id': 'req-1' },
      body,
    });
  });

  it("sets the request id over the function's own", () => {
    expect(
      responseHead({ status: 200, headers: { 'x-request-id': 'mine' }, body: '' }, 'req-1').headers,
    ).toEqual(expect.objectContaining({ 'x-request-id': 'req-1' }));
  });
});

describe('writableHeaders', () => {
  it('drops hop-by-hop headers and the length, lower-casing the rest', () => {
    expect(
      writableHeaders({
        'Content-Length': '3',
        connection: 'close',
        'transfer-encoding': 'chunked',
        'X-A': '1',
        'set-cookie': ['a', 'b'],
      }),
    ).toEqual({
      'x-a': '1',
      'set-cookie': ['a', 'b'],
    });
  });
});

describe('isValidStatus', () => {
  it.each([
    [200, true],
    [599, true],
    [100, true],
    [99, false],
    [600, false],
    [200.5, false],
    [Number.NaN, false],
  ])('%s → %s', (status, valid) => {
    expect(isValidStatus(status)).toBe(valid);
  });
});
