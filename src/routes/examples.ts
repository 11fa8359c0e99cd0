import { DEFAULT_ENVIRONMENT } from '../dagster/environments.ts';

// Request examples for the OpenAPI document. /docs sends them as they stand ("Test Request"), so
// each must work on a fresh service with the default configuration: the environment that exists
// without DAGSTER_ENVIRONMENTS, block types of the built-in catalog, configs their schemas accept.

export const EXAMPLE_ENVIRONMENT = DEFAULT_ENVIRONMENT;

/** The flagship: new and changed customers from Postgres into ClickHouse. */
export const EXAMPLE_SPEC = {
  name: 'customers',
  blocks: [
    { id: 'extract', type: 'postgres_incremental_extract@1', config: { table: 'customers' } },
    { id: 'load', type: 'clickhouse_replacing_merge_tree_load@1', config: { table: 'customers', order_by: ['id'] } },
  ],
  edges: [{ from: { block: 'extract', port: 'rows' }, to: { block: 'load', port: 'rows' } }],
};

export const EXAMPLE_BLOCK = { name: 'customers extract', block_type: 'postgres_incremental_extract@1', config: { table: 'customers' } };
