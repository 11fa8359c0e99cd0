import { expect } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';

/** Tables a refused request must leave as they were. */
const TABLES = ['pipelines', 'pipeline_versions', 'blocks', 'edges', 'deployments', 'chats'] as const;

/** Row counts of every table a request could write to. */
export async function storeCounts(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const [row] = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`);
    counts[table] = Number(row!.n);
  }
  return counts;
}

/** What no answer may carry: a stack trace, a source location, or the store's own words. */
export const LEAK = /\n\s+at |\.ts:\d+|node_modules|Maximum call stack|RangeError|invalid input syntax|unsupported Unicode escape|violates|duplicate key|relation "|column "|syntax error at|SQLSTATE|postgres error|surrogate must/i;

export function expectNoLeak(text: string, context = ''): void {
  expect(text, context).not.toMatch(LEAK);
}

/** JSON text nested `depth` levels deep (built as text: JSON.stringify itself overflows on it). */
export const deepJson = (depth: number, open = '{"a":', close = '}') => `${open.repeat(depth)}1${close.repeat(depth)}`;

/** A small valid spec (extract → load), with fields overridden. */
export const smallSpec = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  blocks: [
    { id: 'extract', type: 'postgres_incremental_extract', config: { table: 'public.orders' } },
    { id: 'load', type: 'clickhouse_replacing_merge_tree_load@1', config: { table: 'orders', order_by: ['id'] } },
  ],
  edges: [{ from: { block: 'extract', port: 'rows' }, to: { block: 'load', port: 'rows' } }],
  ...over,
});
