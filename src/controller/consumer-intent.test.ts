import { describe, expect, it } from '@jest/globals';
import { declaredFunctionName, parseFunctionSpec } from '../contract/parse.js';
import { consumerIntents, type ConsumerFacts } from './consumer-intent.js';

const EVENT = { 'cloudbase.dev/trigger': 'event', 'cloudbase.dev/events': 'orders.*' };

function parsed(functionAnnotation: string, extra: Record<string, string> = EVENT) {
  return parseFunctionSpec({
    annotations: { 'cloudbase.dev/function': functionAnnotation, 'cloudbase.dev/source': 'image', ...extra },
    name: 'billing-v2',
    namespace: 'shop',
  });
}

function facts(overrides: Partial<ConsumerFacts>): ConsumerFacts {
  return {
    namespace: 'shop',
    parsed: parsed('billing'),
    ownership: 'owner',
    previousName: undefined,
    declaredByOthers: () => false,
    ...overrides,
  };
}

/** Each intent as `kind namespace/function`. */
const summary = (f: ConsumerFacts): string[] =>
  consumerIntents(f).map((intent) =>
    intent.kind === 'event'
      ? `event ${intent.spec.namespace}/${intent.spec.name}`
      : `none ${intent.namespace}/${intent.name}`,
  );

describe('the event consumers a reconcile writes', () => {
  it('names the consumer after the function, not the Deployment', () => {
    expect(summary(facts({}))).toEqual(['event shop/billing']);
    expect(summary(facts({ parsed: parsed('true') }))).toEqual(['event shop/billing-v2']);
  });

  it('deletes the consumer of an HTTP function holding the name, its route granted or not', () => {
    const http = parsed('billing', {});
    expect(summary(facts({ parsed: http }))).toEqual(['none shop/billing']);
    expect(summary(facts({ parsed: http, ownership: 'not-granted' }))).toEqual(['none shop/billing']);
  });

  it('leaves the consumer of a name another Deployment holds to that one', () => {
    expect(summary(facts({ ownership: 'name-taken' }))).toEqual([]);
    expect(summary(facts({ ownership: undefined }))).toEqual([]);
  });

  it('writes nothing for annotations that do not parse', () => {
    const broken = parsed('billing', { ...EVENT, 'cloudbase.dev/event-max-attempts': 'many' });
    expect(broken.ok).toBe(false);
    expect(summary(facts({ parsed: broken, previousName: 'billing' }))).toEqual([]);
  });

  it('deletes the consumer of the old name when the function is renamed, unless another declares it', () => {
    expect(summary(facts({ previousName: 'invoices' }))).toEqual([
      'none shop/invoices',
      'event shop/billing',
    ]);
    expect(
      summary(facts({ previousName: 'invoices', declaredByOthers: (name) => name === 'invoices' })),
    ).toEqual(['event shop/billing']);
    expect(summary(facts({ previousName: 'billing' }))).toEqual(['event shop/billing']);
  });

  it('deletes a deleted function’s consumer unless another Deployment declares its name', () => {
    expect(summary(facts({ parsed: undefined, previousName: 'billing' }))).toEqual(['none shop/billing']);
    expect(
      summary(facts({ parsed: undefined, previousName: 'billing', declaredByOthers: () => true })),
    ).toEqual([]);
    expect(summary(facts({ parsed: undefined, previousName: undefined }))).toEqual([]);
  });
});

describe('the function name a Deployment declares', () => {
  it('reads it when other annotations are wrong, and not when it is itself wrong', () => {
    const annotations = { 'cloudbase.dev/function': 'billing', 'cloudbase.dev/events': '' };
    expect(declaredFunctionName({ annotations, name: 'billing-v2' })).toBe('billing');
    expect(declaredFunctionName({ annotations: { 'cloudbase.dev/function': 'true' }, name: 'v2' })).toBe(
      'v2',
    );
    expect(declaredFunctionName({ annotations: { 'cloudbase.dev/function': 'Bad_Name' }, name: 'v2' })).toBe(
      undefined,
    );
    expect(declaredFunctionName({ annotations: {}, name: 'v2' })).toBe(undefined);
  });
});
