import { describe, expect, it } from '@jest/globals';
import { ingestNamespace, ingestPath } from './event-ingest.js';

describe('ingestNamespace', () => {
  it.each([
    ['/namespaces/shop/events', 'shop'],
    ['/namespaces/shop/events/', 'shop'],
    ['/namespaces/a-1/events', 'a-1'],
  ])('%s is the namespace %s', (path, namespace) => {
    expect(ingestNamespace(path)).toBe(namespace);
  });

  it.each([
    ['/namespaces/shop', 'POST events to /namespaces/<namespace>/events'],
    ['/events', 'is not such a path'],
    ['/namespaces/shop/events/x', 'is not such a path'],
    ['/namespaces/Shop/events', '"Shop" is not a namespace name'],
    ['/namespaces/a_b/events', '"a_b" is not a namespace name'],
    [`/namespaces/${'a'.repeat(64)}/events`, 'is not a namespace name'],
  ])('%s names no namespace: %s', (path, message) => {
    const result = ingestNamespace(path);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toContain(message);
  });

  it('reads back the path it builds', () => {
    expect(ingestNamespace(ingestPath('orders'))).toBe('orders');
  });
});
