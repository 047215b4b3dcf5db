import { describe, expect, it } from '@jest/globals';
import { ActivatorTally } from './tally.js';

describe('ActivatorTally', () => {
  it('reports a request streamed to a pod not yet Ready as held, without counting it against the queue', () => {
    const tally = new ActivatorTally();
    tally.received('demo/hello', 0);
    tally.hold('demo/hello', 0);
    tally.release('demo/hello', 1000);
    tally.unseenStarted('demo/hello', 1000);
    expect(tally.held('demo/hello')).toBe(0);
    expect(tally.read(3000).functions['demo/hello']).toEqual({ held: 1, heldSeconds: 3, requests: 1 });
    tally.unseenEnded('demo/hello', 3000);
    expect(tally.read(4000).functions['demo/hello']).toEqual({ held: 0, heldSeconds: 3, requests: 1 });
  });
});
