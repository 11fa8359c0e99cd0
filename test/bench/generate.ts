import type { BlockTypeManifest } from '../../src/catalog/manifest-schema.ts';
import { CATEGORIES, PORT_TYPES } from '../../src/catalog/manifest-schema.ts';

// Words data engineers use, so generated names and descriptions look like a real, large catalog.
const SYSTEMS = ['postgres', 'mysql', 'snowflake', 'bigquery', 'redshift', 'clickhouse', 'duckdb', 'kafka', 'salesforce', 'hubspot', 'stripe', 'shopify', 'github', 'jira', 'zendesk', 's3', 'gcs', 'azure', 'mongodb', 'elasticsearch', 'iceberg', 'delta', 'parquet', 'csv', 'airbyte', 'dlt', 'dbt', 'spark', 'pandas', 'polars'];
const VERBS = ['extract', 'load', 'sync', 'transform', 'validate', 'dedupe', 'enrich', 'aggregate', 'export', 'ingest', 'publish', 'score', 'join', 'filter', 'snapshot'];
const NOUNS = ['customers', 'orders', 'events', 'invoices', 'tickets', 'users', 'sessions', 'payments', 'products', 'leads', 'metrics', 'logs', 'features', 'models', 'files'];

/** `count` deterministic block type manifests (same count, same catalog), valid against the manifest schema. */
export function generateManifests(count: number): BlockTypeManifest[] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const pick = <T>(list: readonly T[]) => list[next() % list.length]!;
  return Array.from({ length: count }, (_, i) => {
    const system = pick(SYSTEMS);
    const verb = pick(VERBS);
    const noun = pick(NOUNS);
    const category = pick(CATEGORIES.filter((c) => c !== 'trigger'));
    return {
      slug: `${system}_${verb}_${noun}_${i}`,
      version: 1,
      name: `${system} ${verb} ${noun} ${i}`,
      description: `Generated block that will ${verb} ${noun} with ${system}, then hand the result to the next step of the pipeline.`,
      category,
      tags: [system, verb, noun],
      inputs: category === 'source' ? [] : [{ name: 'input', type: pick(PORT_TYPES), description: 'Upstream data', required: true, multiple: false }],
      outputs: category === 'sink' ? [] : [{ name: 'output', type: pick(PORT_TYPES), description: 'Result', required: true, multiple: false }],
      config_schema: { type: 'object', properties: { table: { type: 'string', description: 'Table name' } }, additionalProperties: false },
      secrets: [],
      python: { callable: `constellation_blocks.generated:block_${i}` },
      compiles_to: 'asset',
    };
  });
}

/** A valid pipeline of `size` blocks: extract → load pairs, each pair wired by one edge. */
export function generatePipeline(size: number) {
  const pairs = Math.floor(size / 2);
  const blocks = Array.from({ length: pairs }, (_, i) => [
    { id: `extract_${i}`, type: 'postgres_incremental_extract@1', config: { table: `public.table_${i}`, batch_size: 5000 } },
    { id: `load_${i}`, type: 'duckdb_load@1', config: { database_path: '/data/warehouse.duckdb', table: `table_${i}`, mode: 'append' } },
  ]).flat();
  const edges = Array.from({ length: pairs }, (_, i) => ({ from: { block: `extract_${i}`, port: 'rows' }, to: { block: `load_${i}`, port: 'rows' } }));
  return { name: `bench ${size}`, blocks, edges, schedules: [{ id: 'every_6_hours', cron: '0 */6 * * *' }] };
}
