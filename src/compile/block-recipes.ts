import type { BlockType } from '../catalog/block-type.ts';

/**
 * What compile needs to know of each block type it can build: whether it takes a connection
 * resource (whose key naming.ts makes from `keySuffix`), the packages its code imports, and, for
 * a type registered from a code repository, the commit's package its code ships in. How each
 * built-in type runs, and which config field names its secret, is the library's own registry. The
 * catalog is wider than the library; compile refuses a type that has no recipe, by name.
 */
export interface BlockRecipe {
  resource?: { keySuffix: string };
  /** Pinned packages the block's code imports, beyond dagster and the block library. */
  requirements: string[];
  /** A repository type's package import name (constellation_repo_<ns>_<commit12>), which travels into the shard. */
  repoPackage?: string;
}

const RECIPES: Record<string, BlockRecipe> = {
  'postgres_incremental_extract@1': { resource: { keySuffix: 'postgres' }, requirements: ['psycopg[binary]==3.3.9'] },
  'clickhouse_replacing_merge_tree_load@1': { resource: { keySuffix: 'clickhouse' }, requirements: ['clickhouse-driver==0.2.11'] },
  'duckdb_load@1': { requirements: ['duckdb==1.5.6'] },
  // Reads a DuckDB file into a table port, through Arrow (arrow_rows); its after input only orders it.
  'duckdb_table_read@1': { requirements: ['duckdb==1.5.6', 'pyarrow==26.0.1'] },
  // No resource key: the block binds its own dagster-dlt resource, with both of its credentials.
  'dlt_ingestion@1': { requirements: ['dagster-dlt==0.29.27', 'dlt[duckdb,postgres]==1.31.0', 'duckdb==1.5.6'] },
  // An asset check on its upstream's table, read from DuckDB or from Postgres (its URL bound by the block itself).
  'great_expectations_validation@1': { requirements: ['great-expectations==1.24.1', 'pandas==3.1.1', 'duckdb==1.5.6', 'psycopg[binary]==3.3.9'] },
  // Binds its own DataHub resource (GMS URL and token); emits over Rest.li with acryl-datahub's emitter.
  'datahub_metadata_ingestion@1': { requirements: ['acryl-datahub[datahub-rest]==1.7.0.17'] },
  // Binds its own dagster-airbyte resource (server and token).
  'airbyte_sync@1': { requirements: ['dagster-airbyte==0.29.27'] },
  // dbt runs where the pipeline runs, with both adapters the blocks support; the project's manifest is parsed at deploy (dbt-manifests.ts).
  'dbt_run@1': { requirements: ['dagster-dbt==0.29.27', 'dbt-core==1.11.16', 'dbt-duckdb==1.11.1', 'dbt-postgres==1.11.0'] },
  'dbt_test@1': { requirements: ['dagster-dbt==0.29.27', 'dbt-core==1.11.16', 'dbt-duckdb==1.11.1', 'dbt-postgres==1.11.0'] },
  // Each binds its own S3 store (endpoint, region, and both keys from env vars its config names).
  's3_files@1': { requirements: ['boto3==1.44.8'] },
  's3_files_write@1': { requirements: ['boto3==1.44.8', 'pyarrow==26.0.1'] },
  // No resource: it reads through the store named in each file reference of its files input.
  'files_to_table@1': { requirements: ['boto3==1.44.8', 'pyarrow==26.0.1'] },
  // User SQL over the inputs in an in-memory DuckDB with external access off (sandboxed_duckdb): no file, no resource.
  'duckdb_sql_transform@1': { requirements: ['duckdb==1.5.6', 'pyarrow==26.0.1'] },
  'feature_engineering@1': { requirements: ['duckdb==1.5.6', 'pyarrow==26.0.1'] },
  // Each binds its own Iceberg catalog (REST, or SQL on SQLite or PostgreSQL) and S3 keys from env vars its config names.
  'iceberg_table_read@1': { requirements: ['pyiceberg[sql-sqlite,sql-postgres,pyarrow]==0.12.0', 'pyarrow==26.0.1'] },
  'iceberg_table_write@1': { requirements: ['pyiceberg[sql-sqlite,sql-postgres,pyarrow]==0.12.0', 'pyarrow==26.0.1'] },
};

/** The block library's recipe for a built-in type, by ref. */
export const recipeFor = (ref: string): BlockRecipe | undefined => RECIPES[ref];

/**
 * How any block type is built, the one place that decides it: a type registered from a code
 * repository (its manifest has `origin`) is its commit's own step function, with no resource and
 * the repository's requirements (docs/code-repositories.md); any other is the library's, or none.
 */
export function recipeOf(type: Pick<BlockType, 'ref' | 'origin'>): BlockRecipe | undefined {
  if (type.origin) return { requirements: [...type.origin.requirements], repoPackage: type.origin.package };
  return recipeFor(type.ref);
}

/** The block types the library implements, for a refusal's hint. */
export const implementedBlockTypes = (): string[] => Object.keys(RECIPES).sort();

/** What every compiled pipeline needs; one Dagster version across the project (see DAGSTER.md). */
export const BASE_REQUIREMENTS = ['dagster==1.13.27', 'constellation-blocks==0.1.0'];

/**
 * Sensor types the block library builds (pipeline.json "sensors", constellation_blocks.triggers),
 * apart from RECIPES: a sensor makes no asset, needs no resource and imports only the standard library.
 */
const SENSORS: ReadonlySet<string> = new Set(['file_arrival_sensor@1', 'github_release_sensor@1', 'data_quality_alert_sensor@1']);

export const isImplementedSensor = (ref: string): boolean => SENSORS.has(ref);
