import { describe, expect, it } from '@jest/globals';
import { bearerToken, parseAnnouncement } from './announce.js';

describe('parseAnnouncement', () => {
  it('reads the pod UID and IP', () => {
    expect(parseAnnouncement('{"uid":"0f3c-aa","ip":"10.1.0.5"}')).toEqual({
      uid: '0f3c-aa',
      ip: '10.1.0.5',
    });
    expect(parseAnnouncement('{"uid":"0f3c","ip":"fd00::5"}')).toEqual({ uid: '0f3c', ip: 'fd00::5' });
  });

  it.each([
    ['not JSON', 'uid=1', /not JSON/],
    ['null', 'null', /uid undefined is not a pod UID/],
    ['a UID that is not one', '{"uid":"../x","ip":"10.1.0.5"}', /uid "..\/x" is not a pod UID/],
    ['a host name for an IP', '{"uid":"0f3c","ip":"evil.example"}', /ip "evil.example" is not an IP/],
    ['no IP', '{"uid":"0f3c"}', /ip undefined is not an IP/],
  ])('names what is wrong with %s', (_, body, message) => {
    const parsed = parseAnnouncement(body);
    expect(parsed).toBeInstanceOf(Error);
    expect((parsed as Error).message).toMatch(message);
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer header and refuses anything else', () => {
    expect(bearerToken('Bearer eyJ.a-b_c.d')).toBe('eyJ.a-b_c.d');
    for (const header of [undefined, '', 'Basic dXNlcg==', 'Bearer ', 'Bearer a b'])
      expect(bearerToken(header)).toBeInstanceOf(Error);
  });
});
