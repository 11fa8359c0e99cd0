import { describe, expect, it } from 'vitest';
import type { BlockTypeSummary } from '../../src/catalog/block-type.ts';
import { SearchIndex, type SearchDocument } from '../../src/catalog/search-index.ts';
import { tokenize } from '../../src/catalog/tokenize.ts';

const doc = (slug: string, name: string, description: string, tags: string[] = [], category: BlockTypeSummary['category'] = 'transform'): SearchDocument => ({
  summary: { slug, version: 1, ref: `${slug}@1`, builtin: true, name, description, category, tags, inputs: [], outputs: [], secrets: [], compiles_to: 'asset' },
  orgId: null,
  inputTypes: [],
  outputTypes: [],
});

describe('search index', () => {
  const index = new SearchIndex([
    doc('kafka_consume', 'Kafka consume', 'Reads events from a topic and mentions orders in passing.'),
    doc('orders_rollup', 'Orders rollup', 'Aggregates daily totals.', ['orders', 'aggregate']),
    doc('loader', 'Warehouse loader', 'Loading rows into the warehouse.', [], 'sink'),
  ]);

  it('ranks a name match above a description mention', () => {
    expect(index.search('org', { query: 'orders' }).map((h) => h.blockType.slug)).toEqual(['orders_rollup', 'kafka_consume']);
  });

  it('matches word stems and prefixes', () => {
    expect(tokenize('Loading loads loaded')).toEqual(['load', 'load', 'load']);
    expect(index.search('org', { query: 'load' })[0]!.blockType.slug).toBe('loader');
    expect(index.search('org', { query: 'wareh' })[0]!.blockType.slug).toBe('loader');
  });

  it('filters before limiting, and lists by category without a query', () => {
    expect(index.search('org', { query: 'orders', category: 'sink' })).toEqual([]);
    expect(index.search('org', {}).map((h) => h.blockType.slug)).toEqual(['loader', 'kafka_consume', 'orders_rollup']);
    expect(index.search('org', { limit: 1 })).toHaveLength(1);
  });
});
