/**
 * What compile needs to know of each block type the Python library implements: whether it takes
 * a connection resource (whose key naming.ts makes from `keySuffix`), and the packages its code
 * imports. How each type runs, and which config field names its secret, is the library's own
 * registry. The catalog is wider than the library; compile refuses a type that is not here, by name.
 */
export interface BlockRecipe {
  resource?: { keySuffix: string };
  /** Pinned packages the block's code imports, beyond dagster and the block library. */
  requirements: string[];
}

const RECIPES: Record<string, BlockRecipe> = {
  'postgres_incremental_extract@1': { resource: { keySuffix: 'postgres' }, requirements: ['psycopg[binary]==3.3.9'] },
  'clickhouse_replacing_merge_tree_load@1': { resource: { keySuffix: 'clickhouse' }, requirements: ['clickhouse-driver==0.2.11'] },
  'duckdb_load@1': { requirements: ['duckdb==1.5.6'] },
  // No resource key: the block binds its own dagster-dlt resource, with both of its credentials.
  'dlt_ingestion@1': { requirements: ['dagster-dlt==0.29.27', 'dlt[duckdb,postgres]==1.31.0', 'duckdb==1.5.6'] },
  // dbt runs where the pipeline runs, with both adapters the blocks support; the project's manifest is parsed at deploy (dbt-manifests.ts).
  'dbt_run@1': { requirements: ['dagster-dbt==0.29.27', 'dbt-core==1.11.16', 'dbt-duckdb==1.11.1', 'dbt-postgres==1.11.0'] },
  'dbt_test@1': { requirements: ['dagster-dbt==0.29.27', 'dbt-core==1.11.16', 'dbt-duckdb==1.11.1', 'dbt-postgres==1.11.0'] },
};

export const recipeFor = (ref: string): BlockRecipe | undefined => RECIPES[ref];

/** What every compiled pipeline needs; one Dagster version across the project (see DAGSTER.md). */
export const BASE_REQUIREMENTS = ['dagster==1.13.27', 'constellation-blocks==0.1.0'];
