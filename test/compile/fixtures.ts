import type { PipelineIdentity } from '../../src/compile/pipeline-json.ts';
import type { BlockType } from '../../src/catalog/block-type.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';

const byRef = new Map(loadManifests().map((m) => [`${m.slug}@${m.version}`, { ...m, ref: `${m.slug}@${m.version}`, builtin: true } as BlockType]));

// The slug the store makes of the name (migration 0005), in the org the local install creates.
export const PIPELINE: PipelineIdentity = { id: '6f1c2d3e-0000-4000-8000-000000000000', name: 'Customers → ClickHouse', description: null, version: 3, slug: 'customers_clickhouse', orgSlug: 'local' };

/** The seed 003 pipeline: new and changed customers from Postgres into ClickHouse every 6 hours. */
export function flagshipSpec(): PipelineSpec {
  return {
    name: 'Customers → ClickHouse',
    blocks: [
      { id: 'extract_customers', type: 'postgres_incremental_extract@1', name: 'Extract customers', config: { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' }, retry_policy: { max_retries: 3, delay_seconds: 10, backoff: 'exponential' } },
      { id: 'load_customers', type: 'clickhouse_replacing_merge_tree_load@1', name: 'Load → ClickHouse', config: { table: 'customers', order_by: ['id'], connection_secret: 'WAREHOUSE_URL' } },
    ],
    edges: [{ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'load_customers', port: 'rows' } }],
    jobs: [],
    schedules: [{ id: 'every_6_hours', cron: '0 */6 * * *', timezone: 'UTC' }],
    sensors: [],
  };
}

/** Block or sensor id → its catalog type, as the compile service resolves them. */
export function typesFor(spec: PipelineSpec): Map<string, BlockType> {
  return new Map([...spec.blocks, ...spec.sensors].flatMap((b) => (byRef.has(b.type) ? [[b.id, byRef.get(b.type)!] as const] : [])));
}

/** The flagship with seed 004's triggers: two schedules, three sensors, and jobs one of which skips checks. */
export function triggersSpec(): PipelineSpec {
  const spec = flagshipSpec();
  const both = ['extract_customers', 'load_customers'];
  spec.jobs = [
    { id: 'daily_full', blocks: both },
    { id: 'release_triggered', blocks: both },
    { id: 'emergency_refresh', blocks: both, checks: false },
  ];
  spec.schedules = [
    { id: 'daily', cron: '0 2 * * *', timezone: 'UTC', job: 'daily_full' },
    { id: 'every_6_hours', cron: '0 */6 * * *', timezone: 'UTC' },
  ];
  spec.sensors = [
    { id: 'on_upload', type: 'file_arrival_sensor@1', config: { local_directory: '/data/incoming', pattern: '*.csv' } },
    { id: 'on_release', type: 'github_release_sensor@1', job: 'release_triggered', config: { repository: 'acme/app' } },
    { id: 'on_alert', type: 'data_quality_alert_sensor@1', job: 'emergency_refresh', config: { alert_directory: '/data/alerts' } },
  ];
  return spec;
}

/** Seed 002's first steps: CSV files dropped in S3, read into a table, loaded into DuckDB. */
export function lakeSpec(): PipelineSpec {
  return {
    name: 'Orders from the lake',
    blocks: [
      { id: 'landing', type: 's3_files@1', config: { bucket: 'raw-data', endpoint_url: 'http://garage:3900', prefix: 'exports/orders/', pattern: '**/*.csv', secret_access_key_secret: 'LANDING_SECRET' } },
      { id: 'parsed', type: 'files_to_table@1', config: { columns: { id: 'integer' } } },
      { id: 'load', type: 'duckdb_load@1', config: { database_path: '/data/lake.duckdb', table: 'orders' } },
    ],
    edges: [
      { from: { block: 'landing', port: 'files' }, to: { block: 'parsed', port: 'files' } },
      { from: { block: 'parsed', port: 'table' }, to: { block: 'load', port: 'rows' } },
    ],
    jobs: [],
    schedules: [],
    sensors: [],
  };
}

/** Orders and customers joined in DuckDB, customer features from the join, loaded into DuckDB. */
export function featuresSpec(): PipelineSpec {
  return {
    name: 'Customer features',
    blocks: [
      { id: 'orders', type: 'postgres_incremental_extract@1', config: { table: 'public.orders' } },
      { id: 'customers', type: 'postgres_incremental_extract@1', config: { table: 'public.customers' } },
      { id: 'eu_orders', type: 'duckdb_sql_transform@1', config: { sql: "SELECT o.* FROM orders o JOIN customers c USING (customer_id) WHERE c.region = 'eu'" } },
      {
        id: 'customer_features',
        type: 'feature_engineering@1',
        config: { entity_key: ['customer_id'], timestamp_column: 'created_at', features: [{ name: 'orders_7d', aggregation: 'count', window: '7d' }, { name: 'last_ratio', expression: 'total / nullif(items, 0)' }] },
      },
      { id: 'load', type: 'duckdb_load@1', config: { database_path: '/data/features.duckdb', table: 'customer_features', mode: 'replace' } },
    ],
    edges: [
      { from: { block: 'orders', port: 'rows' }, to: { block: 'eu_orders', port: 'tables' } },
      { from: { block: 'customers', port: 'rows' }, to: { block: 'eu_orders', port: 'tables' } },
      { from: { block: 'eu_orders', port: 'result' }, to: { block: 'customer_features', port: 'rows' } },
      { from: { block: 'customer_features', port: 'features' }, to: { block: 'load', port: 'rows' } },
    ],
    jobs: [],
    schedules: [],
    sensors: [],
  };
}

/** A dbt model built in DuckDB, read back into a table port and loaded into another DuckDB file. */
export function warehouseReadSpec(): PipelineSpec {
  return {
    name: 'Issues mart to DuckDB',
    blocks: [
      { id: 'transform', type: 'dbt_run@1', config: { project_dir: '/srv/dbt/tracker', target: 'duckdb' } },
      { id: 'read', type: 'duckdb_table_read@1', config: { database_path: '/data/tracker.duckdb', table: 'analytics.issues_per_user', columns: ['login', 'open_issues'] } },
      { id: 'load', type: 'duckdb_load@1', config: { database_path: '/data/mart.duckdb', table: 'open_issues', mode: 'replace' } },
    ],
    edges: [
      { from: { block: 'transform', port: 'models' }, to: { block: 'read', port: 'after' } },
      { from: { block: 'read', port: 'rows' }, to: { block: 'load', port: 'rows' } },
    ],
    jobs: [],
    schedules: [],
    sensors: [],
  };
}

/** Orders from dropped CSV files into an Iceberg table (SQLite catalog, upserted), and that table read back into DuckDB. */
export function icebergSpec(): PipelineSpec {
  const catalog = { catalog_uri: 'sqlite:////data/iceberg/catalog.db', warehouse: 's3://lake/warehouse', namespace: 'analytics', table: 'orders', s3_endpoint_url: 'http://garage:3900' };
  return {
    name: 'Orders into Iceberg',
    blocks: [
      { id: 'landing', type: 's3_files@1', config: { bucket: 'raw-data', endpoint_url: 'http://garage:3900', pattern: '*.csv' } },
      { id: 'parsed', type: 'files_to_table@1', config: {} },
      { id: 'lake', type: 'iceberg_table_write@1', config: { ...catalog, mode: 'upsert', key_columns: ['order_id'], secret_access_key_secret: 'LAKE_SECRET' } },
      { id: 'from_lake', type: 'iceberg_table_read@1', config: { catalog_uri_secret: 'ICEBERG_CATALOG_URL', namespace: 'analytics', table: 'orders', row_filter: "status = 'paid'" } },
      { id: 'load', type: 'duckdb_load@1', config: { database_path: '/data/lake.duckdb', table: 'paid_orders', mode: 'replace' } },
    ],
    edges: [
      { from: { block: 'landing', port: 'files' }, to: { block: 'parsed', port: 'files' } },
      { from: { block: 'parsed', port: 'table' }, to: { block: 'lake', port: 'rows' } },
      { from: { block: 'from_lake', port: 'rows' }, to: { block: 'load', port: 'rows' } },
    ],
    jobs: [],
    schedules: [],
    sensors: [],
  };
}

/** The smallest pipeline that loads in Dagster: one block, no secrets (a run of it fails: the file is not there). */
export function oneBlockSpec(name: string): PipelineSpec {
  return {
    name,
    blocks: [{ id: 'read', type: 'duckdb_table_read@1', config: { database_path: '/tmp/constellation-nothing-here.duckdb', table: 'orders' } }],
    edges: [],
    jobs: [],
    schedules: [],
    sensors: [],
  };
}

/** The package of commit 3f2a9c1d0e4b… of the repository etl-blocks (docs/code-repositories.md). */
export const REPO_PACKAGE_NAME = 'constellation_repo_etl_blocks_3f2a9c1d0e4b';

/**
 * A block type registered from a code repository, as the catalog hands it out: `greeting_rows`
 * of etl-blocks, a source whose step function is `<package>.greeting:make_rows`; `opts.secrets`
 * gives it an API token read through a config field.
 */
export function repoBlockType(opts: { slug?: string; version?: number; pkg?: string; secrets?: boolean; requirements?: string[] } = {}): BlockType {
  const slug = opts.slug ?? 'etl_blocks__greeting_rows';
  const version = opts.version ?? 1;
  const pkg = opts.pkg ?? REPO_PACKAGE_NAME;
  return {
    slug,
    version,
    ref: `${slug}@${version}`,
    builtin: false,
    name: 'Greeting rows',
    description: 'Makes one row per name, greeting each; a repository block used to test shipping code.',
    category: 'source',
    tags: [],
    inputs: [],
    outputs: [{ name: 'rows', type: 'table', description: 'One greeting per name.', required: true, multiple: false }],
    config_schema: {
      type: 'object',
      properties: { names: { type: 'array', items: { type: 'string' }, default: ['Ada', 'Grace'] }, token_env: { type: 'string' } },
    },
    secrets: opts.secrets ? [{ name: 'GREETING_API_TOKEN', description: 'Token of the greeting API.', config_field: 'token_env' }] : [],
    python: { callable: `${pkg}.greeting:make_rows` },
    compiles_to: 'asset',
    origin: {
      repo_url: 'https://git.example.com/acme/etl-blocks.git',
      branch: 'main',
      commit: `${pkg.slice(-12)}${'0'.repeat(28)}`,
      package: pkg,
      requirements: opts.requirements ?? [],
      compile_id: '0e6f1c2d-0000-4000-8000-0000000000aa',
    },
  };
}

/** A repository block's greetings loaded into DuckDB. */
export function repoSpec(type: BlockType = repoBlockType()): PipelineSpec {
  return {
    name: 'Greetings',
    blocks: [
      { id: 'greet', type: type.ref, config: {} },
      { id: 'load', type: 'duckdb_load@1', config: { database_path: '/tmp/greetings.duckdb', table: 'greetings' } },
    ],
    edges: [{ from: { block: 'greet', port: 'rows' }, to: { block: 'load', port: 'rows' } }],
    jobs: [],
    schedules: [],
    sensors: [],
  };
}

/** `typesFor`, with the repository types given placed where the spec uses their refs. */
export function typesWith(spec: PipelineSpec, repoTypes: BlockType[]): Map<string, BlockType> {
  const types = typesFor(spec);
  for (const block of spec.blocks) {
    const repo = repoTypes.find((t) => t.ref === block.type);
    if (repo) types.set(block.id, repo);
  }
  return types;
}
