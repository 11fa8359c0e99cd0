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

// The S3 blocks' shared settings. The prefix is free text without a leading "/" on one line (the
// schema's "^(?!/).*$": "." stops at line breaks); the property test only loads, so no store need answer.
const s3Store = {
  bucket: fc.oneof(fc.constantFrom('raw-data', 'exports', 'a.b-c'), fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)),
  prefix: fc.oneof(fc.constantFrom('', 'exports/orders/', 'a b/"q"/'), hostileText({ maxLength: 60 }).filter((s) => !s.startsWith('/') && !/[\n\r\u2028\u2029]/.test(s))),
  endpoint_url: fc.constantFrom('http://garage:3900', 'http://127.0.0.1:9', 'https://s3.eu-central-1.amazonaws.com'),
  region: fc.constantFrom('garage', 'us-east-1', 'eu-central-1'),
  access_key_id_secret: secretName,
  secret_access_key_secret: secretName,
};

// feature_engineering's features: an expression (free text: the library checks it at run time) or
// an aggregation, which needs a column except count; a window only where the config has a timestamp_column.
const feature = (windowed: boolean) => {
  const window = windowed ? { window: fc.stringMatching(/^[1-9][0-9]{0,3}[mhdw]$/) } : {};
  return fc.oneof(
    fc.record({ name: identifier, expression: fc.oneof(fc.constantFrom('total / nullif(items, 0)', "lower(name) = 'x'"), hostileText({ minLength: 1, maxLength: 60 })), ...window }, { requiredKeys: ['name', 'expression'] }),
    fc.record({ name: identifier, aggregation: fc.constant('count'), column: identifier, ...window }, { requiredKeys: ['name', 'aggregation'] }),
    fc.record({ name: identifier, aggregation: fc.constantFrom('sum', 'mean', 'min', 'max', 'last'), column: identifier, ...window }, { requiredKeys: ['name', 'aggregation', 'column'] }),
  );
};
const features = (windowed: boolean) => fc.array(feature(windowed), { minLength: 1, maxLength: 4 });
// The Iceberg blocks' catalog: exactly one of a REST or SQLite catalog URL (no white space) and the
// env var of a SQL URL; a SQL catalog writes under a warehouse. Nested namespaces are dotted identifiers.
const noSpace = hostileText({ minLength: 1, maxLength: 40 }).filter((s) => /^\S+$/.test(s));
const warehouse = fc.oneof(fc.constantFrom('s3://lake/warehouse', 's3://a.b-c/x y'), noSpace.map((s) => `s3://lake/${s}`));
const icebergCatalog = fc.oneof(
  fc.record({ catalog_uri: fc.oneof(fc.constantFrom('http://iceberg-rest:8181', 'https://catalog.example.com/api/catalog'), noSpace.map((s) => `http://rest:8181/${s}`)), warehouse: fc.constantFrom('lake', 's3://lake/warehouse') }, { requiredKeys: ['catalog_uri'] }),
  fc.record({ catalog_uri: fc.oneof(fc.constant('sqlite:////data/iceberg/catalog.db'), noSpace.map((s) => `sqlite:////${s}`)), warehouse }),
  fc.record({ catalog_uri_secret: secretName, warehouse }),
);
const icebergTable = {
  namespace: fc.array(identifier, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.')),
  table: identifier,
  partition_column: identifier,
  s3_endpoint_url: fc.constantFrom('http://garage:3900', 'http://127.0.0.1:9'),
  region: fc.constantFrom('garage', 'us-east-1'),
  access_key_id_secret: secretName,
  secret_access_key_secret: secretName,
};
const iceberg = (extra: Record<string, fc.Arbitrary<unknown>>) =>
  fc.tuple(icebergCatalog, fc.record({ ...icebergTable, ...extra }, { requiredKeys: ['namespace', 'table'] })).map(([catalog, rest]) => ({ ...catalog, ...rest }));

// One Great Expectations expectation of each manifest type, with the kwargs its class requires.
const expectation = fc.oneof(
  fc.record({ type: fc.constantFrom('expect_column_values_to_not_be_null', 'expect_column_values_to_be_unique'), kwargs: fc.record({ column: identifier }) }),
  fc.record({
    type: fc.constant('expect_column_values_to_be_between'),
    // The schema wants min_value or max_value (Great Expectations refuses neither).
    kwargs: fc.record({ column: identifier, min_value: fc.integer(), max_value: fc.integer(), mostly: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: ['column', 'min_value'] }),
  }),
  // Great Expectations refuses a row count range whose min is above its max.
  fc.record({ type: fc.constant('expect_table_row_count_to_be_between'), kwargs: fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => ({ min_value: Math.min(a, b), max_value: Math.max(a, b) })) }),
  fc.record({ type: fc.constant('expect_column_values_to_be_in_set'), kwargs: fc.record({ column: identifier, value_set: fc.array(fc.oneof(identifier, fc.integer()), { maxLength: 4 }) }) }),
  fc.record({ type: fc.constant('expect_column_values_to_match_regex'), kwargs: fc.record({ column: identifier, regex: fc.constantFrom('^[a-z]+$', '\\d{3}', '.*') }) }),
);

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
  // The schema's if/then: duckdb (the default database) needs duckdb_path. Each expectation gets the kwargs its type requires.
  // Its table is replaced by one its upstream makes when wired (valid-spec.ts, TABLES_MADE_BY).
  'great_expectations_validation@1': fc.record(
    {
      table: identifier,
      schema: identifier,
      database: fc.constantFrom('duckdb', 'postgres'),
      duckdb_path: duckdbPath,
      connection_secret: secretName,
      fail_pipeline_on_error: fc.boolean(),
      suite_name: fc.stringMatching(/^[A-Za-z0-9_.-]{1,30}$/),
      expectations: fc.array(expectation, { minLength: 1, maxLength: 6 }),
    },
    { requiredKeys: ['table', 'duckdb_path', 'expectations'] },
  ),
  'datahub_metadata_ingestion@1': fc.record(
    {
      gms_url: fc.constantFrom('http://datahub-gms:8080', 'https://acme.acryl.io/gms', 'http://127.0.0.1:9'),
      platform: fc.constantFrom('duckdb', 'postgres', 'clickhouse', 'iceberg', 'dbt'),
      env: fc.constantFrom('PROD', 'DEV', 'QA'),
      include_lineage: fc.boolean(),
      token_secret: secretName,
    },
    { requiredKeys: ['gms_url', 'platform'] },
  ),
  'airbyte_sync@1': fc.record(
    {
      connection_id: fc.uuid(),
      host: fc.constantFrom('localhost', 'airbyte-server', '127.0.0.1', 'airbyte.example.com'),
      port: fc.integer({ min: 1, max: 65535 }),
      use_https: fc.boolean(),
      poll_interval_seconds: fc.integer({ min: 1, max: 3600 }),
      timeout_seconds: fc.integer({ min: 60, max: 86400 }),
      api_token_secret: secretName,
    },
    { requiredKeys: ['connection_id'] },
  ),
  'duckdb_table_read@1': fc.record(
    { database_path: duckdbPath, table: qualifiedTable, columns: columns(), partition_column: identifier },
    { requiredKeys: ['database_path', 'table'] },
  ),
  's3_files@1': fc.record(
    { ...s3Store, pattern: fc.oneof(fc.constantFrom('*', '*.csv', '**/*.parquet', 'orders-?.jsonl', '**'), hostileText({ minLength: 1, maxLength: 40 })) },
    { requiredKeys: ['bucket', 'endpoint_url'] },
  ),
  's3_files_write@1': fc.record({ ...s3Store, format: fc.constantFrom('parquet', 'csv', 'jsonl') }, { requiredKeys: ['bucket', 'endpoint_url'] }),
  'iceberg_table_read@1': iceberg({ row_filter: hostileText({ minLength: 1, maxLength: 60 }), snapshot_id: fc.stringMatching(/^[0-9]{1,19}$/) }),
  // An upsert names its key columns (the manifest's if/then); other modes may carry them unused.
  'iceberg_table_write@1': iceberg({ mode: fc.constantFrom('append', 'overwrite', 'upsert'), key_columns: columns(), create_table_if_missing: fc.boolean() }).map((config: Record<string, unknown>) =>
    config.mode === 'upsert' && !config.key_columns ? { ...config, key_columns: ['id'] } : config,
  ),
  'files_to_table@1': fc.record(
    {
      format: fc.constantFrom('auto', 'csv', 'jsonl', 'parquet'),
      columns: fc.dictionary(identifier.filter((name) => name !== '__proto__'), fc.constantFrom('string', 'integer', 'float', 'boolean', 'date', 'timestamp', 'timestamptz'), { minKeys: 1, maxKeys: 5 }),
      source_file_column: identifier,
    },
    { requiredKeys: [] },
  ),
  // Any text: the schema asks only for one character, and the library checks the SQL when it runs.
  'duckdb_sql_transform@1': fc.record(
    { sql: fc.oneof(fc.constantFrom('SELECT 1', "SELECT * FROM orders WHERE name = 'it''s'", 'WITH a AS (SELECT 1 AS x) SELECT x FROM a'), hostileText({ minLength: 1, maxLength: 80 })), output_table: identifier },
    { requiredKeys: ['sql'] },
  ),
  'feature_engineering@1': fc.oneof(
    fc.record({ entity_key: columns(), timestamp_column: identifier, features: features(true), output_table: identifier }, { requiredKeys: ['entity_key', 'timestamp_column', 'features'] }),
    fc.record({ entity_key: columns(), features: features(false), output_table: identifier }, { requiredKeys: ['entity_key', 'features'] }),
  ),
};

/**
 * The tables a block of each type makes assets of, from its config, for blocks whose config names
 * one of its upstream's tables (great_expectations_validation's `table`): a type not listed makes
 * one asset, which such a block checks whatever table it names.
 */
export const TABLES_MADE_BY: Record<string, (config: Record<string, unknown>) => string[]> = {
  // dlt's snake_case naming of the generated names ([a-z][a-z0-9_]*): each trailing "_" becomes "x", then runs of "_" become one.
  'dlt_ingestion@1': (config) => {
    const source = config.source_config as { resources?: string[]; table_names?: string[] };
    return (source.resources ?? source.table_names ?? []).map((name) => name.replace(/_+$/, (tail) => 'x'.repeat(tail.length)).replace(/_+/g, '_'));
  },
};

// An absolute path the schema takes ("^/"); the rest is free text, quotes and braces included.
const absolutePath = fc.oneof(fc.constantFrom('/data/incoming', '/tmp/a b', '/'), hostileText({ maxLength: 60 }).map((s) => `/${s}`));

/**
 * One config arbitrary per sensor type the compiler implements (src/compile/block-recipes.ts
 * isImplementedSensor), keyed by ref, each valid against its manifest's config_schema. The
 * data-quality sensor watches alert files only: no quality block type compiles yet.
 */
export const SENSOR_CONFIGS = {
  'file_arrival_sensor@1': fc.record(
    {
      local_directory: absolutePath,
      prefix: fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z0-9_]{1,12}\/$/)),
      pattern: fc.constantFrom('*', '*.csv', '**/*.json', 'orders-*.parquet'),
      minimum_interval_seconds: fc.integer({ min: 5, max: 86_400 }),
    },
    { requiredKeys: ['local_directory'] },
  ),
  'github_release_sensor@1': fc.record(
    {
      repository: fc.tuple(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/)).map(([owner, name]) => `${owner}/${name}`),
      include_prereleases: fc.boolean(),
      minimum_interval_seconds: fc.integer({ min: 60, max: 86_400 }),
      token_secret: secretName,
      api_url: fc.constantFrom('https://api.github.com', 'https://github.example.com/api/v3'),
    },
    { requiredKeys: ['repository'] },
  ),
  'data_quality_alert_sensor@1': fc.record(
    { alert_directory: absolutePath, severity: fc.constantFrom('WARN', 'ERROR'), minimum_interval_seconds: fc.integer({ min: 5, max: 86_400 }) },
    { requiredKeys: ['alert_directory'] },
  ),
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
// The fixture project's models each dbt_run selection above makes assets of, before its exclude.
const FIXTURE_MODELS_SELECTED: Record<string, string[]> = {
  'fqn:*': ['stg_issues', 'stg_users', 'issues_per_user'],
  'stg_issues+': ['stg_issues', 'issues_per_user'],
  staging: ['stg_issues', 'stg_users'],
  issues_per_user: ['issues_per_user'],
};
// No fixture model is tagged deprecated, so only excluding a model by name removes one.
TABLES_MADE_BY['dbt_run@1'] = (config) =>
  (FIXTURE_MODELS_SELECTED[(config.select as string | undefined) ?? 'fqn:*'] ?? []).filter((model) => model !== config.exclude);
BLOCK_CONFIGS['dbt_test@1'] = fc.record(
  { project_dir: fc.constant(DBT_PROJECT), profiles_dir: fc.constant(DBT_PROJECT), target: dbtTarget, select: fc.constant('fqn:*'), fail_on_warning: fc.boolean() },
  { requiredKeys: ['project_dir'] },
);
