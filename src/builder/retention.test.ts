import { StatusAnnotation } from '../contract/annotations.js';
import { buildHistoryOf, keptBuilds } from './retention.js';

const k = (c: string): string => c.repeat(64);

describe('buildHistoryOf', () => {
  it('reads the keys newest first and drops what is not a key or repeats', () => {
    const annotations = { [StatusAnnotation.buildHistory]: `${k('a')}  ${k('b')} nope ${k('a')}\n${k('c')}` };
    expect(buildHistoryOf(annotations, undefined)).toEqual([k('a'), k('b'), k('c')]);
  });

  it('is the running image’s input for a function built before the history existed', () => {
    expect(buildHistoryOf({}, { image: 'r/n/f@sha256:' + k('0'), key: k('d') })).toEqual([k('d')]);
    expect(buildHistoryOf(undefined, undefined)).toEqual([]);
  });
});

describe('keptBuilds', () => {
  it('puts the new input first and keeps at most the configured number', () => {
    expect(keptBuilds([k('b'), k('c'), k('d')], k('a'), 3)).toEqual([k('a'), k('b'), k('c')]);
  });

  it('moves an input built before to the front instead of keeping it twice', () => {
    expect(keptBuilds([k('b'), k('a'), k('c')], k('a'), 3)).toEqual([k('a'), k('b'), k('c')]);
  });

  it('keeps the new image even when told to keep none', () => {
    expect(keptBuilds([k('b')], k('a'), 0)).toEqual([k('a')]);
  });
});
