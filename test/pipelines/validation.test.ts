import { describe, expect, it } from 'vitest';
import { edge, extract, ingest, load, pair, s3Files, s3Write, transform, validatorWithCatalog, where, type Block } from './spec-fixtures.ts';

// validateSpec against the real built-in catalog: every error kind with its code, its JSON path,
// and a message and hint a model can act on.

const { report, errors } = validatorWithCatalog();

describe('a valid spec', () => {
  it('passes a realistic Postgres → ClickHouse pipeline with a schedule, and fills defaults', async () => {
    const spec = {
      name: 'orders to clickhouse',
      description: 'New and changed orders every six hours',
      blocks: [
        extract('orders_extract', { table: 'public.orders', primary_key: ['id'], batch_size: 5000, initial_watermark: '2024-01-01T00:00:00Z' }),
        load('orders_load', { table: 'orders', database: 'analytics', order_by: ['id'], version_column: 'updated_at' }),
      ],
      edges: [edge('orders_extract', 'rows', 'orders_load', 'rows')],
      jobs: [{ id: 'sync_orders', blocks: ['orders_extract', 'orders_load'] }],
      schedules: [{ id: 'every_six_hours', job: 'sync_orders', cron: '0 */6 * * *' }],
      retry_policy: { max_retries: 3, delay_seconds: 30, backoff: 'exponential' },
      partitions: { type: 'daily', start_date: '2024-01-01', end_date: '2024-12-31', timezone: 'Europe/Berlin' },
    };
    const result = await report(spec);
    expect(result).toMatchObject({ valid: true, errors: [], warnings: [] });
    expect(result.spec).toMatchObject({ sensors: [], schedules: [{ timezone: 'UTC' }] });
  });

  it('accepts a slug without a version as the latest one, aliases as crons, and a real sensor', async () => {
    const spec = {
      ...pair(),
      blocks: [{ id: 'extract', type: 'postgres_incremental_extract', config: { table: 'orders' } }, load()],
      schedules: [{ id: 'daily', cron: '@daily', timezone: 'America/New_York' }],
      sensors: [{ id: 'on_new_files', type: 'file_arrival_sensor@1', config: { bucket: 'landing', endpoint_url: 'http://garage:3900' } }],
    };
    expect(await report(spec)).toMatchObject({ valid: true, errors: [], warnings: [] });
  });

  it('lets an input marked multiple take several edges', async () => {
    const spec = {
      name: 'join',
      blocks: [extract('orders'), extract('customers', { table: 'customers' }), transform('joined', 'SELECT * FROM orders JOIN customers USING (customer_id)')],
      edges: [edge('orders', 'rows', 'joined', 'tables'), edge('customers', 'rows', 'joined', 'tables')],
    };
    expect(await report(spec)).toMatchObject({ valid: true, errors: [] });
  });

  it('takes a dbt_run block\'s models into a DuckDB table read\'s after input, and the read\'s rows into a table sink', async () => {
    const spec = {
      name: 'dbt model back into a table',
      blocks: [
        { id: 'transform', type: 'dbt_run@1', config: { project_dir: '/srv/dbt/tracker' } },
        { id: 'read', type: 'duckdb_table_read@1', config: { database_path: '/data/tracker.duckdb', table: 'analytics.issues_per_user', partition_column: 'day' } },
        { id: 'copy', type: 'duckdb_load@1', config: { database_path: '/data/mart.duckdb', table: 'issues_per_user' } },
      ],
      edges: [edge('transform', 'models', 'read', 'after'), edge('read', 'rows', 'copy', 'rows')],
    };
    expect(await report(spec)).toMatchObject({ valid: true, errors: [], warnings: [] });
  });

  it('validates a 500-block chain', async () => {
    const blocks: Block[] = [extract('source')];
    const edges = [];
    for (let i = 1; i < 500; i++) {
      blocks.push(transform(`step_${i}`));
      edges.push(edge(i === 1 ? 'source' : `step_${i - 1}`, i === 1 ? 'rows' : 'result', `step_${i}`, 'tables'));
    }
    expect(await report({ name: 'long chain', blocks, edges })).toMatchObject({ valid: true, errors: [], warnings: [] });

    // Closing the chain into a loop is found without overflowing anything, with the whole path.
    edges.push(edge('step_499', 'result', 'step_1', 'tables'));
    const found = await errors({ name: 'long loop', blocks, edges });
    expect(where(found)).toEqual(['cycle /edges/1']);
    expect(found[0]!.message).toMatch(/: step_1 → step_2 → .* → step_499 → step_1$/);
  });
});

describe('shape errors', () => {
  it('reports a wrong type with its path and stops there', async () => {
    const result = await report({ name: 'x', blocks: 'extract' });
    expect(result).toMatchObject({ valid: false, warnings: [] });
    expect(result.spec).toBeUndefined();
    expect(where(result.errors)).toEqual(['wrong_type /blocks']);
    expect(result.errors[0]!.hint).toContain('an array');
  });

  it('reports unknown fields, missing fields and bad nested values all at once', async () => {
    const result = await report({
      blocks: [{ id: 'extract', type: 'postgres_incremental_extract@1', colour: 'red' }],
      edges: [{ from: { block: 'extract' }, to: { block: 'load', port: 'rows' } }],
      schedule: '0 * * * *',
    });
    expect(result.valid).toBe(false);
    expect(where(result.errors).sort()).toEqual(['missing_field /edges/0/from/port', 'missing_field /name', 'unknown_field /schedule', 'unknown_field /blocks/0/colour'].sort());
    expect(result.errors.find((e) => e.path === '/schedule')!.message).toBe('unknown field "schedule"');
    expect(result.errors.find((e) => e.path === '/blocks/0/colour')!.message).toBe('unknown field "colour"');
    expect(result.errors.find((e) => e.path === '/name')!.message).toBe('"name" is required');
  });

  it('checks partition dates for shape', async () => {
    const result = await report({ ...pair(), partitions: { type: 'daily', start_date: '2024/01/01' } });
    expect(where(result.errors)).toEqual(['invalid_value /partitions/start_date']);
    expect(result.errors[0]!.message).toContain('2024-01-31');
  });
});

describe('ids', () => {
  it.each([
    ['a bad character', 'orders-extract', 'orders_extract'],
    ['upper case', 'Extract', 'extract'],
    ['a leading digit', '1extract', 'extract'],
    ['a Python keyword', 'class', 'class_table'],
    ['the name compiled code gives each asset function\'s context', 'context', 'context_table'],
    ['more than 63 characters', `e${'x'.repeat(63)}`, undefined],
  ])('rejects %s', async (_what, id, suggestion) => {
    const found = await errors(pair(id));
    expect(where(found)).toEqual(['invalid_id /blocks/0/id']);
    expect(found[0]!.message).toContain(`"${id}"`);
    if (suggestion) expect(found[0]!.hint).toBe(`Try "${suggestion}".`);
  });

  it('reports an id used twice among blocks', async () => {
    const spec = { ...pair(), blocks: [extract(), load(), extract('extract', { table: 'customers' })] };
    const found = await errors(spec);
    expect(where(found)).toEqual(['duplicate_id /blocks/2/id']);
    expect(found[0]!.message).toContain('/blocks/0/id');
    expect(found[0]!.hint).toContain('"extract_2"');
  });

  it('reports an id shared across kinds: a job, a schedule and a sensor named like a block', async () => {
    const spec = pair('extract', 'load', {
      jobs: [{ id: 'load', blocks: ['extract', 'load'] }],
      schedules: [{ id: 'extract', cron: '@daily' }],
      sensors: [{ id: 'load', type: 'github_release_sensor@1', config: { repository: 'dagster-io/dagster' } }],
    });
    const found = await errors(spec);
    expect(where(found)).toEqual(['duplicate_id /jobs/0/id', 'duplicate_id /schedules/0/id', 'duplicate_id /sensors/0/id']);
    expect(found[0]!.message).toBe('id "load" is already used at /blocks/1/id');
    expect(found[0]!.hint).toContain('blocks, jobs, schedules and sensors');
  });
});

describe('block types and configs', () => {
  it('suggests the right slug for an unknown one', async () => {
    const spec = { ...pair(), blocks: [{ id: 'extract', type: 'postgres_extract@1', config: { table: 'orders' } }, load()] };
    const found = await errors(spec);
    // The edge into "load" still connects it: only the type is wrong.
    expect(where(found)).toEqual(['unknown_block_type /blocks/0/type']);
    expect(found[0]!.message).toBe('there is no block type "postgres_extract" in the catalog');
    expect(found[0]!.hint).toMatch(/^Did you mean .*"postgres_incremental_extract@1"/);
  });

  it('lists the versions of a known slug asked for at an unknown version', async () => {
    const spec = { ...pair(), blocks: [extract(), { ...load(), type: 'clickhouse_replacing_merge_tree_load@9' }] };
    const found = await errors(spec);
    expect(where(found)).toEqual(['unknown_block_type /blocks/1/type']);
    expect(found[0]!.message).toContain('has no version 9');
    expect(found[0]!.hint).toBe('Versions: 1; the latest is "clickhouse_replacing_merge_tree_load@1".');
  });

  it('explains a type that is not a reference at all', async () => {
    const spec = { ...pair(), blocks: [{ ...extract(), type: 'Postgres Extract' }, load()] };
    const found = await errors(spec);
    expect(where(found)).toEqual(['unknown_block_type /blocks/0/type']);
    expect(found[0]!.hint).toContain('"slug@version"');
  });

  it('reports a missing required config field with its description', async () => {
    const found = await errors({ ...pair(), blocks: [extract('extract', {}), load()] });
    expect(where(found)).toEqual(['invalid_config /blocks/0/config/table']);
    expect(found[0]!.message).toContain('"table"');
    expect(found[0]!.hint).toContain('Table to extract');
  });

  it('reports a config value of the wrong type', async () => {
    const found = await errors({ ...pair(), blocks: [extract('extract', { table: 'orders', batch_size: 'lots' }), load()] });
    expect(where(found)).toEqual(['invalid_config /blocks/0/config/batch_size']);
    expect(found[0]!.message).toContain('integer');
    expect(found[0]!.hint).toContain('Type: "integer"');
  });

  it('names the allowed fields when a config has an unknown one', async () => {
    const found = await errors({ ...pair(), blocks: [extract(), load('load', { table: 'orders', order_by: ['id'], engine: 'ReplacingMergeTree' })] });
    expect(where(found)).toEqual(['invalid_config /blocks/1/config/engine']);
    expect(found[0]!.message).toContain('"engine"');
    expect(found[0]!.hint).toMatch(/^Remove it; the fields are: /);
    // Every field of the type, in whatever order the store keeps the schema's keys.
    const fields = found[0]!.hint!.replace(/^Remove it; the fields are: |\.$/g, '').split(', ');
    expect(fields.sort()).toEqual(['batch_size', 'connection_secret', 'create_table_if_missing', 'database', 'order_by', 'table', 'version_column']);
  });

  it('lists the allowed values of an enum, also inside arrays', async () => {
    const spec = {
      name: 'export',
      blocks: [
        extract(),
        s3Write('export', { format: 'xlsx' }),
        { id: 'check', type: 'great_expectations_validation@1', config: { table: 'orders', duckdb_path: '/data/warehouse.duckdb', expectations: [{ type: 'expect_magic', kwargs: {} }] } },
        ingest(),
      ],
      edges: [edge('extract', 'rows', 'export', 'rows'), edge('ingest', 'tables', 'check', 'tables')],
    };
    const found = await errors(spec);
    expect(where(found)).toEqual(['invalid_config /blocks/1/config/format', 'invalid_config /blocks/2/config/expectations/0/type']);
    expect(found[0]!.message).toBe('must be one of "parquet", "csv", "jsonl"');
    expect(found[1]!.message).toContain('"expect_column_values_to_not_be_null"');
  });

  it('asks for timestamp_column when a feature has a window, and only then', async () => {
    const features = (config: Record<string, unknown>) => ({
      name: 'features',
      blocks: [extract(), { id: 'features', type: 'feature_engineering@1', config: { entity_key: ['customer_id'], ...config } }],
      edges: [edge('extract', 'rows', 'features', 'rows')],
    });
    const windowed = [{ name: 'orders', aggregation: 'count' }, { name: 'orders_7d', aggregation: 'count', window: '7d' }];
    const found = await errors(features({ features: windowed }));
    expect(where(found)).toEqual(['invalid_config /blocks/1/config/timestamp_column']);
    expect(found[0]!.message).toBe('config is missing the required field "timestamp_column"');
    expect(found[0]!.hint).toContain('needed for windowed features');
    expect(await report(features({ features: windowed, timestamp_column: 'created_at' }))).toMatchObject({ valid: true, errors: [] });
    expect(await report(features({ features: [{ name: 'orders', aggregation: 'count' }] }))).toMatchObject({ valid: true, errors: [] });
  });

  it('asks an Iceberg block for exactly one catalog, key_columns for an upsert, and a warehouse for a SQL catalog', async () => {
    const table = { namespace: 'analytics', table: 'orders' };
    const spec = {
      name: 'lake',
      blocks: [
        { id: 'read', type: 'iceberg_table_read@1', config: { ...table, catalog_uri: 'http://iceberg-rest:8181', catalog_uri_secret: 'ICEBERG_CATALOG_URL' } },
        { id: 'upsert', type: 'iceberg_table_write@1', config: { ...table, catalog_uri: 'http://iceberg-rest:8181', mode: 'upsert' } },
        { id: 'sql', type: 'iceberg_table_write@1', config: { ...table, catalog_uri: 'sqlite:////data/catalog.db' } },
      ],
      edges: [edge('read', 'rows', 'upsert', 'rows'), edge('read', 'rows', 'sql', 'rows')],
    };
    const found = await errors(spec);
    // One error each, at the field to fix (not again as ajv's 'must match "then" schema' at the config).
    expect(where(found)).toEqual(['invalid_config /blocks/0/config', 'invalid_config /blocks/1/config/key_columns', 'invalid_config /blocks/2/config/warehouse']);
    expect(found[0]!.message).toBe('config must have exactly one of "catalog_uri", "catalog_uri_secret"; it has "catalog_uri" and "catalog_uri_secret"');
    expect(found[0]!.hint).toMatch(/^catalog_uri: .*REST catalog.* catalog_uri_secret: .*environment variable/);
    expect(found[1]!.hint).toContain('"upsert"');
    expect(found[2]!.hint).toContain('Required with a SQL catalog');
  });

  it('checks sensor configs too', async () => {
    const found = await errors(pair('extract', 'load', { sensors: [{ id: 'on_release', type: 'github_release_sensor@1', config: {} }] }));
    expect(where(found)).toEqual(['invalid_config /sensors/0/config/repository']);
  });

  it('sends a cron trigger in blocks to schedules and a sensor to sensors', async () => {
    const spec = {
      ...pair(),
      blocks: [extract(), load(), { id: 'every_hour', type: 'cron_schedule@1', config: { cron: '0 * * * *' } }, { id: 'on_files', type: 'file_arrival_sensor@1', config: { bucket: 'landing' } }],
    };
    const found = await errors(spec);
    expect(where(found)).toEqual(['misplaced_trigger /blocks/2/type', 'misplaced_trigger /blocks/3/type']);
    expect(found[0]!.message).toContain('"cron_schedule@1" is a trigger');
    expect(found[0]!.hint).toContain('"schedules"');
    expect(found[1]!.hint).toContain('"sensors"');
    expect(found[1]!.hint).toContain('"file_arrival_sensor@1"');
  });

  it('refuses a non-sensor block type as a sensor', async () => {
    const spec = pair('extract', 'load', {
      sensors: [
        { id: 'on_rows', type: 'postgres_incremental_extract@1', config: { table: 'orders' } },
        { id: 'hourly', type: 'cron_schedule@1', config: { cron: '0 * * * *' } },
      ],
    });
    const found = await errors(spec);
    expect(where(found)).toEqual(['not_a_sensor /sensors/0/type', 'not_a_sensor /sensors/1/type']);
    expect(found[0]!.message).toBe('"postgres_incremental_extract@1" is not a sensor block type');
    expect(found[0]!.hint).toContain('"trigger"');
    expect(found[1]!.hint).toContain('"schedules"');
  });
});

describe('ports and edges', () => {
  it('names the real output ports when an edge leaves from a missing one', async () => {
    const found = await errors({ ...pair(), edges: [edge('extract', 'output', 'load', 'rows')] });
    expect(where(found)).toEqual(['missing_port /edges/0/from/port']);
    expect(found[0]!.message).toBe('block "extract" (postgres_incremental_extract@1) has no output port "output"');
    expect(found[0]!.hint).toBe('Its outputs: "rows" (table).');
  });

  it('names the real input ports when an edge arrives at a missing one', async () => {
    const found = await errors({ ...pair(), edges: [edge('extract', 'rows', 'load', 'input')] });
    // "rows" then really has no edge, so that is reported too.
    expect(where(found)).toEqual(['missing_port /edges/0/to/port', 'missing_port /blocks/1']);
    expect(found[0]!.hint).toBe('Its inputs: "rows" (table).');
  });

  it('reports a required input left unconnected', async () => {
    const result = await report({ ...pair(), edges: [] });
    expect(where(result.errors)).toEqual(['missing_port /blocks/1']);
    expect(result.errors[0]!.message).toBe('required input "rows" (table) of block "load" is not connected');
    expect(result.errors[0]!.hint).toContain('"to": {"block": "load", "port": "rows"}');
  });

  it('refuses to join ports of different types', async () => {
    const spec = {
      name: 'files into a table input',
      blocks: [s3Files('landing'), s3Write('export'), extract(), load(), { id: 'copy', type: 'duckdb_load@1', config: { database_path: '/data/x.duckdb', table: 'loaded' } }],
      edges: [edge('landing', 'files', 'export', 'rows'), edge('extract', 'rows', 'load', 'rows'), edge('load', 'loaded', 'copy', 'rows')],
    };
    const found = await errors(spec);
    // The wrong edges still connect their inputs: one mistake, one error each.
    expect(where(found)).toEqual(['incompatible_ports /edges/0', 'incompatible_ports /edges/2']);
    expect(found[0]!.message).toBe('output "landing.files" carries files but input "export.rows" takes table');
    // files → table has a block made for it: the hint names it, so a model can follow it.
    expect(found[0]!.hint).toBe('Put a files_to_table block between them: connect this files output to its input, and its table output to this input.');
    expect(found[1]!.message).toBe('output "load.loaded" carries metrics but input "copy.rows" takes table');
    expect(found[1]!.hint).toContain('turns metrics into table');
  });

  it('takes a sink\'s stored table into a tables input, but not rows in flight, saying which block stores them', async () => {
    const dbt = { project_dir: '/srv/dbt/lake' };
    const warehouse = { id: 'store', type: 'duckdb_load@1', config: { database_path: '/data/lake.duckdb', table: 'orders' } };
    const stored = {
      name: 'dbt over a stored table',
      blocks: [extract('orders'), warehouse, { id: 'transform', type: 'dbt_run@1', config: dbt }],
      edges: [edge('orders', 'rows', 'store', 'rows'), edge('store', 'table', 'transform', 'sources')],
    };
    expect(await report(stored)).toMatchObject({ valid: true, errors: [] });
    const inFlight = { ...stored, edges: [edge('orders', 'rows', 'store', 'rows'), edge('orders', 'rows', 'transform', 'sources')] };
    const found = await errors(inFlight);
    expect(where(found)).toEqual(['incompatible_ports /edges/1']);
    expect(found[0]!.message).toBe('output "orders.rows" carries table but input "transform.sources" takes tables');
    expect(found[0]!.hint).toContain('connect a sink that stores these rows (duckdb_load, iceberg_table_write)');
  });

  it('refuses an edge into an input from a block type it does not name (dbt_test reads a dbt_run\'s models)', async () => {
    const dbt = { project_dir: '/srv/dbt/analytics' };
    const spec = {
      name: 'dbt tests on dlt tables',
      blocks: [
        { id: 'ingest', type: 'dlt_ingestion@1', config: { pipeline_name: 'gh', source: 'rest_api', source_config: { client: { base_url: 'https://api.example.com/' }, resources: ['issues'] }, duckdb_path: '/data/w.duckdb' } },
        { id: 'transform', type: 'dbt_run@1', config: dbt },
        { id: 'test', type: 'dbt_test@1', config: dbt },
        { id: 'check', type: 'dbt_test@1', config: dbt },
      ],
      edges: [edge('ingest', 'tables', 'transform', 'sources'), edge('transform', 'models', 'test', 'models'), edge('ingest', 'tables', 'check', 'models')],
    };
    const found = await errors(spec);
    expect(where(found)).toEqual(['incompatible_ports /edges/2']);
    expect(found[0]!.message).toBe('input "check.models" takes the output of a dbt_run block, not of "ingest" (dlt_ingestion@1)');
  });

  it('allows one edge into an input that is not multiple', async () => {
    const spec = { name: 'two into one', blocks: [extract('orders'), extract('archive', { table: 'orders_archive' }), load()], edges: [edge('orders', 'rows', 'load', 'rows'), edge('archive', 'rows', 'load', 'rows')] };
    const found = await errors(spec);
    expect(where(found)).toEqual(['too_many_edges /edges/1']);
    expect(found[0]!.message).toBe('input "load.rows" takes one edge but 2 connect to it (/edges/0, /edges/1)');
  });

  it('reports the same edge twice once, as a duplicate', async () => {
    const found = await errors({ ...pair(), edges: [edge('extract', 'rows', 'load', 'rows'), edge('extract', 'rows', 'load', 'rows')] });
    expect(where(found)).toEqual(['duplicate_edge /edges/1']);
    expect(found[0]!.message).toContain('/edges/0');
  });

  it('reports an edge naming a block that does not exist, listing the ids', async () => {
    const found = await errors({ ...pair(), edges: [edge('extrakt', 'rows', 'load', 'rows')] });
    expect(where(found)).toEqual(['unknown_block /edges/0/from/block']);
    expect(found[0]!.message).toBe('no block has id "extrakt"');
    expect(found[0]!.hint).toBe('Block ids: extract, load.');
  });

  it('does not call a self-edge between missing blocks a cycle', async () => {
    const found = await errors({ ...pair(), edges: [...pair().edges, edge('ghost', 'result', 'ghost', 'tables')] });
    expect(where(found)).toEqual(['unknown_block /edges/1/from/block', 'unknown_block /edges/1/to/block']);
  });
});

describe('graph', () => {
  it('finds a two-block cycle and shows its path', async () => {
    const spec = { name: 'loop', blocks: [transform('a'), transform('b')], edges: [edge('a', 'result', 'b', 'tables'), edge('b', 'result', 'a', 'tables')] };
    const found = await errors(spec);
    expect(where(found)).toEqual(['cycle /edges/0']);
    expect(found[0]!.message).toBe('the blocks form a cycle: a → b → a');
    expect(found[0]!.hint).toContain('/edges/0, /edges/1');
  });

  it('finds a longer cycle behind a source', async () => {
    const spec = {
      name: 'loop',
      blocks: [extract(), transform('a'), transform('b'), transform('c')],
      edges: [edge('extract', 'rows', 'a', 'tables'), edge('a', 'result', 'b', 'tables'), edge('b', 'result', 'c', 'tables'), edge('c', 'result', 'a', 'tables')],
    };
    const found = await errors(spec);
    expect(where(found)).toEqual(['cycle /edges/1']);
    expect(found[0]!.message).toBe('the blocks form a cycle: a → b → c → a');
    expect(found[0]!.hint).toContain('/edges/1, /edges/2, /edges/3');
  });

  it('finds a block that feeds itself', async () => {
    const spec = { name: 'self', blocks: [extract(), transform('t')], edges: [edge('extract', 'rows', 't', 'tables'), edge('t', 'result', 't', 'tables')] };
    const found = await errors(spec);
    expect(where(found)).toEqual(['cycle /edges/1']);
    expect(found[0]!.message).toBe('block "t" feeds itself');
  });

  it('reports a block in no job when jobs are declared', async () => {
    const found = await errors(pair('extract', 'load', { jobs: [{ id: 'nightly', blocks: ['extract'] }] }));
    expect(where(found)).toEqual(['unreachable /blocks/1']);
    expect(found[0]!.message).toContain('"load" is in no job');
    expect(found[0]!.hint).toContain('/jobs/0/blocks');
  });

  it('warns about an isolated block but keeps the spec valid', async () => {
    const result = await report({ ...pair(), blocks: [extract(), load(), extract('customers', { table: 'customers' })] });
    expect(result.valid).toBe(true);
    expect(result.errors).toEqual([]);
    expect(where(result.warnings)).toEqual(['isolated_block /blocks/2']);
    expect(result.warnings[0]!.message).toContain('"customers" has no edges');
  });

  it('does not warn about a pipeline of one block', async () => {
    expect(await report({ name: 'one', blocks: [extract()] })).toMatchObject({ valid: true, errors: [], warnings: [] });
  });
});

describe('jobs, schedules, sensors and partitions', () => {
  it('reports a job naming a missing block', async () => {
    const found = await errors(pair('extract', 'load', { jobs: [{ id: 'nightly', blocks: ['extract', 'load', 'ghost'] }] }));
    expect(where(found)).toEqual(['unknown_block /jobs/0/blocks/2']);
    expect(found[0]!.message).toBe('job "nightly" names block "ghost", which does not exist');
    expect(found[0]!.hint).toBe('Block ids: extract, load.');
  });

  it('reports schedules and sensors naming a missing job', async () => {
    const found = await errors(
      pair('extract', 'load', {
        jobs: [{ id: 'nightly', blocks: ['extract', 'load'] }],
        schedules: [{ id: 'every_hour', job: 'hourly', cron: '0 * * * *' }],
        sensors: [{ id: 'on_release', type: 'github_release_sensor@1', job: 'release', config: { repository: 'dagster-io/dagster' } }],
      }),
    );
    expect(where(found)).toEqual(['unknown_job /schedules/0/job', 'unknown_job /sensors/0/job']);
    expect(found[0]!.message).toBe('there is no job "hourly"');
    expect(found[0]!.hint).toContain('Jobs: nightly');
  });

  it('says to declare the job when there are none', async () => {
    const found = await errors(pair('extract', 'load', { schedules: [{ id: 'every_hour', job: 'hourly', cron: '0 * * * *' }] }));
    expect(where(found)).toEqual(['unknown_job /schedules/0/job']);
    expect(found[0]!.hint).toContain('declare the job in "jobs"');
  });

  it('reports bad crons: too few fields, out of range, a seconds field', async () => {
    const schedules = [
      { id: 'four', cron: '0 */6 * *' },
      { id: 'sixty_one', cron: '61 * * * *' },
      { id: 'six', cron: '0 0 */6 * * *' },
    ];
    const found = await errors(pair('extract', 'load', { schedules }));
    expect(where(found)).toEqual(['invalid_cron /schedules/0/cron', 'invalid_cron /schedules/1/cron', 'invalid_cron /schedules/2/cron']);
    expect(found[0]!.message).toContain('has 4 fields');
    expect(found[1]!.message).toContain('61');
    expect(found[1]!.message).toContain('0-59');
    expect(found[2]!.message).toContain('has 6 fields');
    expect(found[0]!.hint).toContain('"0 */6 * * *"');
  });

  it.each(['Mars/Olympus', 'Europe/Berlinn', '+01:00', 'europe/berlin'])('reports the time zone %j', async (timezone) => {
    const found = await errors(pair('extract', 'load', { schedules: [{ id: 'hourly', cron: '0 * * * *', timezone }] }));
    expect(where(found)).toEqual(['invalid_timezone /schedules/0/timezone']);
    expect(found[0]!.message).toBe(`"${timezone}" is not a time zone Dagster can load`);
  });

  it('reports impossible partition dates, an end before the start, and a bad zone', async () => {
    const found = await errors(pair('extract', 'load', { partitions: { type: 'daily', start_date: '2024-02-30', timezone: 'Nowhere/City' } }));
    expect(where(found)).toEqual(['invalid_partitions /partitions/start_date', 'invalid_timezone /partitions/timezone']);
    expect(found[0]!.message).toBe('"2024-02-30" is not a calendar date');

    const backwards = await errors(pair('extract', 'load', { partitions: { type: 'monthly', start_date: '2024-06-01', end_date: '2024-01-01' } }));
    expect(where(backwards)).toEqual(['invalid_partitions /partitions/end_date']);
    expect(backwards[0]!.message).toBe('end_date must come after start_date');
  });

  it('accepts static partitions and a leap day', async () => {
    expect((await report(pair('extract', 'load', { partitions: { type: 'static', values: ['eu', 'us'] } }))).valid).toBe(true);
    expect((await report(pair('extract', 'load', { partitions: { type: 'daily', start_date: '2024-02-29' } }))).valid).toBe(true);
  });
});

describe('a spec with many problems', () => {
  it('reports all of them at once', async () => {
    const spec = {
      name: 'broken',
      blocks: [
        extract('extract', { table: 'orders', batch_size: 'big' }), // invalid_config
        load('load', { table: 'orders' }), // invalid_config: order_by missing
        { id: 'Check', type: 'great_expectations_validation@1', config: { table: 'orders', duckdb_path: '/data/warehouse.duckdb', expectations: [{ type: 'expect_column_values_to_be_unique', kwargs: { column: 'id' } }] } }, // invalid_id
        { id: 'lookup', type: 'postgres_extract@1', config: {} }, // unknown_block_type; unreachable
        ingest(),
      ],
      edges: [
        edge('extract', 'rows', 'load', 'rows'),
        edge('ingest', 'tables', 'Check', 'tables'),
        edge('extract', 'rows', 'ghost', 'rows'), // unknown_block
      ],
      jobs: [{ id: 'nightly', blocks: ['extract', 'load', 'ingest', 'Check'] }],
      schedules: [{ id: 'every_six_hours', job: 'hourly', cron: '0 */6 * *', timezone: 'Mars/Olympus' }], // unknown_job, invalid_cron, invalid_timezone
    };
    const result = await report(spec);
    expect(result.valid).toBe(false);
    expect(where(result.errors).sort()).toEqual(
      [
        'invalid_id /blocks/2/id',
        'invalid_config /blocks/0/config/batch_size',
        'invalid_config /blocks/1/config/order_by',
        'unknown_block_type /blocks/3/type',
        'unknown_block /edges/2/to/block',
        'unreachable /blocks/3',
        'unknown_job /schedules/0/job',
        'invalid_cron /schedules/0/cron',
        'invalid_timezone /schedules/0/timezone',
      ].sort(),
    );
    expect(result.errors).toHaveLength(9);
    expect(where(result.warnings)).toEqual(['isolated_block /blocks/3']);
  });
});
