import { describe, expect, it } from '@jest/globals';
import { PeerAges } from './peers.js';

describe('PeerAges', () => {
  it('counts a peer settled only once it has served for the whole period, without a break', () => {
    const ages = new PeerAges();
    expect(ages.settled(5000, 0)).toEqual([]);
    ages.observe(['10.1.0.2'], 0);
    expect(ages.settled(5000, 4999)).toEqual([]);
    expect(ages.settled(5000, 5000)).toEqual(['10.1.0.2']);
    // Gone, then back: its time starts again.
    ages.observe([], 6000);
    ages.observe(['10.1.0.2'], 7000);
    expect(ages.settled(5000, 11_000)).toEqual([]);
    // A newer peer beside an old one: the old one settles it.
    ages.observe(['10.1.0.2', '10.1.0.3'], 11_500);
    expect(ages.settled(5000, 12_000)).toEqual(['10.1.0.2']);
  });
});
