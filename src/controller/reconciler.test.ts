import { describe, expect, it } from '@jest/globals';
import type { ChildAction, ChildKind } from './plan.js';
import { writeStages } from './reconciler.js';

const apply = (kind: ChildKind): ChildAction => ({
  action: 'apply',
  kind,
  object: { kind, metadata: { name: kind } },
});
const remove = (kind: ChildKind): ChildAction => ({
  action: 'delete',
  ref: { kind, namespace: 'demo', name: kind },
});
const describeStages = (stages: ChildAction[][]) =>
  stages.map((stage) => stage.map((a) => `${a.action} ${a.action === 'apply' ? a.kind : a.ref.kind}`));

describe('writeStages', () => {
  it('applies the Service and Middleware together, then the IngressRoute that uses them', () => {
    expect(
      describeStages(writeStages([apply('Service'), apply('Middleware'), apply('IngressRoute')])),
    ).toEqual([['apply Service', 'apply Middleware'], ['apply IngressRoute']]);
  });

  it('deletes a route before the middleware it names, after any apply', () => {
    expect(
      describeStages(writeStages([remove('Middleware'), remove('IngressRoute'), apply('IngressRoute')])),
    ).toEqual([['apply IngressRoute'], ['delete IngressRoute'], ['delete Middleware']]);
  });

  it('has no stage when there is nothing to write', () => {
    expect(writeStages([])).toEqual([]);
  });
});
