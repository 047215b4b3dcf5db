import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { PeerAges, closesAtOnce, type PeerRead } from './peers.js';

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

describe('closesAtOnce', () => {
  /** An activator pod; `deleting` gives the grace of its deletion (70 s a graceful one, 0 a forced one). */
  const pod = (ip: string, deleting: boolean | number = false): V1Pod => ({
    metadata: {
      name: `activator-${ip}`,
      ...(deleting === false
        ? {}
        : { deletionTimestamp: new Date(0), deletionGracePeriodSeconds: deleting === true ? 70 : deleting }),
    },
    status: { podIP: ip },
  });

  it.each<[string, readonly string[], PeerRead, boolean]>([
    // This pod (10.1.0.9) listed as deleting: a graceful deletion, which drains whatever the peers.
    [
      'a graceful deletion and a settled peer whose pod stays',
      ['10.1.0.2'],
      { pods: [pod('10.1.0.9', true), pod('10.1.0.2')] },
      false,
    ],
    // This pod's object gone while the token still reads: a force deletion.
    [
      'a force deletion read before the token went, and a settled peer whose pod stays',
      ['10.1.0.2'],
      { pods: [pod('10.1.0.2')] },
      true,
    ],
    [
      'a force deletion read while this pod still shows, deleting with a grace of 0',
      ['10.1.0.2'],
      { pods: [pod('10.1.0.9', 0), pod('10.1.0.2')] },
      true,
    ],
    [
      'a force deletion and the settled peer being deleted too',
      ['10.1.0.2'],
      { pods: [pod('10.1.0.2', true)] },
      false,
    ],
    [
      'a force deletion and a settled peer whose pod is gone',
      ['10.1.0.2'],
      { pods: [pod('10.1.0.3')] },
      false,
    ],
    [
      'a refused read (this pod force-deleted) and a settled peer the watch sees ready',
      ['10.1.0.2'],
      { failed: 'unauthorized', readyIps: ['10.1.0.2'] },
      true,
    ],
    [
      'a refused read and the settled peer no longer ready',
      ['10.1.0.2'],
      { failed: 'unauthorized', readyIps: [] },
      false,
    ],
    [
      'a refused read and only a peer that is not settled',
      [],
      { failed: 'unauthorized', readyIps: ['10.1.0.3'] },
      false,
    ],
    ['any other failed read', ['10.1.0.2'], { failed: 'other', readyIps: ['10.1.0.2'] }, false],
    // The watch of this pod's own object, which the kubelet's signal follows.
    [
      'the watch showing this pod gone and a settled peer ready',
      ['10.1.0.2'],
      { watched: { kind: 'gone' }, readyIps: ['10.1.0.2'] },
      true,
    ],
    [
      'the watch showing this pod gone and no settled peer ready',
      ['10.1.0.2'],
      { watched: { kind: 'gone' }, readyIps: ['10.1.0.3'] },
      false,
    ],
    [
      'the watch showing this pod deleting gracefully',
      ['10.1.0.2'],
      { watched: { kind: 'deleting', graceSeconds: 70 }, readyIps: ['10.1.0.2'] },
      false,
    ],
    // What CI saw: a force deletion shows the object deleting with a grace of 0 before it goes.
    [
      'the watch showing this pod deleting with a grace shorter than the drain',
      ['10.1.0.2'],
      { watched: { kind: 'deleting', graceSeconds: 0 }, readyIps: ['10.1.0.2'] },
      true,
    ],
  ])('with %s says %s', (_case, settled, read, expected) => {
    expect(closesAtOnce(settled, read, '10.1.0.9', 5000)).toBe(expected);
  });
});
