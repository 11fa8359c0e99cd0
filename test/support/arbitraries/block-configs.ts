import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { hostileText } from './text.ts';

/**
 * One config arbitrary per block type the compiler implements, keyed by ref: every config it
 * yields satisfies that type's config_schema (blocks/manifests/<slug>.json). A block type that
 * gains a recipe in src/compile/block-recipes.ts joins the property test by adding its entry
 * here; test/e2e/spec-loads.test.ts fails until it does.
 */

const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,24}$/);
const qualifiedTable = fc.oneof(identifier, fc.tuple(identifier, identifier).map(([schema, table]) => `${schema}.${table}`));
const columns = (minLength = 1) => fc.uniqueArray(identifier, { minLength, maxLength: 4 });
const secretName = fc.oneof(fc.constantFrom('POSTGRES_URL', 'CLICKHOUSE_URL', 'SOURCE_DB_URL', 'A', 'PATH'), fc.stringMatching(/^[A-Z][A-Z0-9_]{0,30}$/));
const batchSize = fc.oneof(fc.constantFrom(1, 1_000_000), fc.integer({ min: 1, max: 1_000_000 }));

// RFC 3339 date-times as ajv's "date-time" format takes them: Z or an offset, optional fraction.
const dateTime = fc
  .tuple(
    fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-12-31T23:59:59Z'), noInvalidDate: true }),
    fc.constantFrom('Z', '+00:00', '+05:30', '-08:00', '+14:00'),
    fc.boolean(),
  )
  .map(([date, zone, fraction]) => `${date.toISOString().slice(0, fraction ? 23 : 19)}${zone}`);

// A path that ends in .duckdb or .db is all the schema asks; the rest is free text.
const duckdbPath = fc
  .tuple(fc.oneof(fc.constantFrom('/data/warehouse', 'relative/w', 'w', '/tmp/a b'), hostileText({ maxLength: 60 })), fc.constantFrom('.duckdb', '.db'))
  .map(([stem, extension]) => stem + extension);

export const BLOCK_CONFIGS: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'postgres_incremental_extract@1': fc.record(
    {
      table: qualifiedTable,
      created_at_column: identifier,
      updated_at_column: identifier,
      primary_key: columns(),
      columns: columns(),
      batch_size: batchSize,
      connection_secret: secretName,
      initial_watermark: dateTime,
    },
    { requiredKeys: ['table'] },
  ),
  'clickhouse_replacing_merge_tree_load@1': fc.record(
    {
      table: identifier,
      database: identifier,
      order_by: columns(),
      version_column: identifier,
      create_table_if_missing: fc.boolean(),
      batch_size: batchSize,
      connection_secret: secretName,
    },
    { requiredKeys: ['table', 'order_by'] },
  ),
  'duckdb_load@1': fc
    .record(
      { database_path: duckdbPath, table: qualifiedTable, mode: fc.constantFrom('append', 'replace', 'merge'), primary_key: columns() },
      { requiredKeys: ['database_path', 'table'] },
    )
    // "merge" needs primary_key (the schema's if/then); the other modes may carry one or not.
    .map((config) => (config.mode === 'merge' && !config.primary_key ? { ...config, primary_key: ['id'] } : config)),
  // The schema's if/thens: duckdb (the default destination) needs duckdb_path; each source its own source_config.
  'dlt_ingestion@1': fc
    .record(
      {
        pipeline_name: fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
        source: fc.constantFrom('rest_api', 'sql_database'),
        destination: fc.constantFrom('duckdb', 'postgres'),
        duckdb_path: duckdbPath,
        dataset_name: identifier,
        write_disposition: fc.constantFrom('append', 'replace', 'merge'),
        primary_key: columns(),
        incremental_cursor: identifier,
        source_credentials_secret: secretName,
        destination_credentials_secret: secretName,
        tables: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), { minLength: 1, maxLength: 3 }),
      },
      { requiredKeys: ['pipeline_name', 'source', 'duckdb_path', 'tables'] },
    )
    .map(({ tables, ...config }) => ({
      ...config,
      source_config:
        config.source === 'rest_api'
          ? { client: { base_url: 'https://api.example.com/v1/' }, resources: tables }
          : { schema: 'public', table_names: tables },
    })),
};

// dbt blocks name a project that exists where the pipeline runs: the block library's fixture
// project, which the property test parses as a deploy does (DbtManifests). Selections, targets
// and vars come from small sets that the fixture answers, so that a run parses a few times, not
// once per spec; every model of the fixture has tests, so any selection gives dbt_test checks.
const DBT_PROJECT = fileURLToPath(new URL('../../../blocks/python/tests/fixtures/dbt_project', import.meta.url));
const dbtTarget = fc.constantFrom('duckdb', 'postgres');
const dbtVars = fc.constantFrom({}, { start_date: '2024-01-01' }, { "it's": ['{{ not jinja }}', '__import__("os")'] });
BLOCK_CONFIGS['dbt_run@1'] = fc.record(
  {
    project_dir: fc.constant(DBT_PROJECT),
    profiles_dir: fc.constant(DBT_PROJECT),
    target: dbtTarget,
    command: fc.constantFrom('build', 'run'),
    select: fc.constantFrom('fqn:*', 'stg_issues+', 'staging', 'issues_per_user'),
    exclude: fc.constantFrom('stg_users', 'tag:deprecated'),
    full_refresh: fc.boolean(),
    vars: dbtVars,
  },
  { requiredKeys: ['project_dir'] },
);
BLOCK_CONFIGS['dbt_test@1'] = fc.record(
  { project_dir: fc.constant(DBT_PROJECT), profiles_dir: fc.constant(DBT_PROJECT), target: dbtTarget, select: fc.constant('fqn:*'), fail_on_warning: fc.boolean() },
  { requiredKeys: ['project_dir'] },
);
