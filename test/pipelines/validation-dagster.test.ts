import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import { FIXED_NAMES } from '../../src/compile/naming.ts';
import rules from '../../src/pipelines/dagster-names.json' with { type: 'json' };
import { idProblem, slugify } from '../../src/pipelines/ids.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { PIPELINE, typesFor } from '../compile/fixtures.ts';
import { DAGSTER_ONLY, edge, extract, ingest, load, pair, validatorWithCatalog, where } from './spec-fixtures.ts';

// What Dagster refuses at load, refused at validation instead: names, partition keys, crons,
// blocks named in config, and names the compiler generates. Each case here validated before.

const { report, errors, app } = validatorWithCatalog();
const sensor = (id: string) => ({ id, type: 'github_release_sensor@1', config: { repository: 'dagster-io/dagster' } });
const quality = (id: string) => ({ id, type: 'great_expectations_validation@1', config: { table: 'orders', duckdb_path: '/data/warehouse.duckdb', expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }] } });

describe('names Dagster refuses', () => {
  it.each(DAGSTER_ONLY)('refuses %j as a block, job, schedule and sensor id, suggesting a free one', async (name) => {
    const asBlock = await errors(pair(name));
    expect(where(asBlock)).toEqual(['invalid_id /blocks/0/id']);
    expect(asBlock[0]!.message).toBe(`id "${name}" is a name Dagster ${rules.dagster_version} refuses (it conflicts with a Dagster or Python reserved word)`);
    expect(asBlock[0]!.hint).toBe(`Try "${name}_table".`);

    const others = await errors(pair('extract', 'load', { jobs: [{ id: name, blocks: ['extract', 'load'] }], schedules: [{ id: name, job: name, cron: '@daily' }], sensors: [sensor(name)] }));
    // The three share one id: the job's is invalid, and the others are invalid the same way.
    expect(where(others)).toEqual(['invalid_id /jobs/0/id', 'invalid_id /schedules/0/id', 'invalid_id /sensors/0/id']);
    expect(others.map((i) => i.hint)).toEqual([`Try "${name}_job".`, `Try "${name}_schedule".`, `Try "${name}_sensor".`]);
  });

  it('refuses every name in the pinned Dagster list, and the suggestion for each is usable', () => {
    for (const name of rules.disallowed_names.filter((n) => /^[a-z]/.test(n))) {
      expect(idProblem(name), name).toEqual(expect.any(String));
      expect(idProblem(slugify(name)), name).toBeNull();
    }
  });

  it('turns a block named "Output" (or "Input", "Meta"…) in the seed flow into a usable id', async () => {
    const block = async (name: string, block_type: string, config: object) => (await app().call('POST', '/v1/blocks', { name, block_type, config })).body.id as string;
    const from = await block('Input', 'postgres_incremental_extract', { table: 'public.customers' });
    const to = await block('Output', 'clickhouse_replacing_merge_tree_load', { table: 'customers', order_by: ['id'] });
    expect((await app().call('POST', '/v1/edges', { source_block_id: from, source_port: 'rows', target_block_id: to, target_port: 'rows' })).status).toBe(201);
    const created = await app().call('POST', '/dagster/pipelines/', { pipeline_name: 'input to output', block_ids: [from, to], configuration: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const stored = await app().call('GET', `/v1/pipelines/${created.body.pipeline_id}`);
    expect(stored.body.spec.blocks.map((b: { id: string }) => b.id)).toEqual(['input_block', 'output_block']);
  });

  it('keeps a seed-flow block id that a generated definitions.py once took as a resource parameter', async () => {
    const block = async (name: string, block_type: string, config: object) => (await app().call('POST', '/v1/blocks', { name, block_type, config })).body.id as string;
    const from = await block('Load customers clickhouse', 'postgres_incremental_extract', { table: 'public.customers' });
    const to = await block('Load customers', 'clickhouse_replacing_merge_tree_load', { table: 'customers', order_by: ['id'] });
    await app().call('POST', '/v1/edges', { source_block_id: from, source_port: 'rows', target_block_id: to, target_port: 'rows' });
    const created = await app().call('POST', '/dagster/pipelines/', { pipeline_name: 'once a clash in the seed flow', block_ids: [from, to], configuration: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const stored = await app().call('GET', `/v1/pipelines/${created.body.pipeline_id}`);
    expect(stored.body.spec.blocks.map((b: { id: string }) => b.id)).toEqual(['load_customers_clickhouse', 'load_customers']);
  });
});

describe('names the compiler generates', () => {
  const spec = (ids: { from: string; to: string }, more: Partial<PipelineSpec> = {}): PipelineSpec => ({
    name: 'names',
    blocks: [extract(ids.from) as PipelineSpec['blocks'][number], load(ids.to) as PipelineSpec['blocks'][number]],
    edges: [edge(ids.from, 'rows', ids.to, 'rows')],
    jobs: [],
    schedules: [],
    sensors: [],
    ...more,
  });

  it('accepts ids that were the resource keys of a generated definitions.py: resource keys carry the pipeline slug now', async () => {
    const once = spec({ from: 'load_customers_clickhouse', to: 'load_customers' }, { jobs: [{ id: 'load_customers_clickhouse_postgres', blocks: ['load_customers_clickhouse', 'load_customers'] }], schedules: [{ id: 'nightly', job: 'load_customers_clickhouse_postgres', cron: '@daily', timezone: 'UTC' }] });
    expect(await report(once)).toMatchObject({ valid: true, errors: [] });
    const data = JSON.parse(compilePipeline(PIPELINE, once, typesFor(once)).files['pipeline.json']!);
    expect(data.blocks.load_customers_clickhouse.resource_key).toBe('customers_clickhouse__load_customers_clickhouse_postgres');
    expect(data.jobs.load_customers_clickhouse_postgres.name).toBe('customers_clickhouse__load_customers_clickhouse_postgres');
  });

  it('accepts the names only a generated module reserved (its imports and module-level names)', async () => {
    for (const id of ['dg', 'defs', 'pipeline', 'postgres', 'clickhouse', 'duckdb']) {
      expect(idProblem(id), id).toBeNull();
      expect((await report(spec({ from: id, to: 'load' }))).valid, id).toBe(true);
    }
  });

  it('reserves every fixed name, whatever Dagster thinks of it', () => {
    for (const name of FIXED_NAMES) expect(idProblem(name), name).toEqual(expect.any(String));
  });

  it('gives the default job another name when a block takes "all_blocks"', async () => {
    const taken = pair('all_blocks', 'load', { schedules: [{ id: 'daily', cron: '@daily' }] });
    expect((await report(taken)).valid).toBe(true);
    const pinned = spec({ from: 'all_blocks', to: 'load' }, { schedules: [{ id: 'daily', cron: '@daily', timezone: 'UTC' }] });
    expect(compilePipeline(PIPELINE, pinned, typesFor(pinned)).dagsterJobs).toEqual({ all_blocks_2: 'customers_clickhouse__all_blocks_2' });
  });
});

describe('static partition keys', () => {
  it('refuses what Dagster refuses in a key, and a key twice, each at its path', async () => {
    const values = ['eu', 'north\namerica', 'asia\tpacific', '2024-01...2024-02', 'eu', 'bell\u0007'];
    const found = await errors(pair('extract', 'load', { partitions: { type: 'static', values } }));
    expect(where(found)).toEqual([
      'invalid_partitions /partitions/values/1',
      'invalid_partitions /partitions/values/2',
      'invalid_partitions /partitions/values/3',
      'duplicate_partition /partitions/values/4',
      'invalid_partitions /partitions/values/5',
    ]);
    expect(found[0]!.message).toBe('partition key "north\\namerica" contains a line feed (\\n), which Dagster refuses in partition keys');
    expect(found[0]!.hint).toBe('Use "north america" instead.');
    expect(found[2]!.message).toContain('three dots');
    expect(found[2]!.hint).toBe('Use "2024-01-2024-02" instead.');
    expect(found[3]!.message).toBe('partition key "eu" is already at /partitions/values/0');
  });
});

describe('time zones and partition dates Dagster cannot load', () => {
  // Found by the property test (test/e2e/spec-loads.test.ts): Node's Intl knows legacy zone names
  // that the tzdata Dagster reads dropped, and Dagster's partition keys break before year 1000.
  it('refuses zones Intl resolves but zoneinfo does not have, on schedules and partitions', async () => {
    for (const zone of ['SystemV/AST4', 'Canada/East-Saskatchewan', 'US/Pacific-New']) {
      expect(new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone, zone).toBeTruthy();
      const found = await errors(pair('extract', 'load', { schedules: [{ id: 'nightly', cron: '@daily', timezone: zone }], partitions: { type: 'hourly', start_date: '2024-01-01', timezone: zone } }));
      expect(where(found), zone).toEqual(['invalid_timezone /schedules/0/timezone', 'invalid_timezone /partitions/timezone']);
    }
    expect((await report(pair('extract', 'load', { schedules: [{ id: 'nightly', cron: '@daily', timezone: 'Asia/Calcutta' }] }))).valid).toBe(true);
  });

  it('refuses partition dates Dagster cannot write as keys, and takes the bounds themselves', async () => {
    for (const start_date of ['0001-01-02', '0402-02-10', '0000-01-01', '1899-12-31', '3000-01-01']) {
      const found = await errors(pair('extract', 'load', { partitions: { type: 'monthly', start_date } }));
      expect(where(found), start_date).toEqual(['invalid_partitions /partitions/start_date']);
    }
    const late = await errors(pair('extract', 'load', { partitions: { type: 'daily', start_date: '2024-01-01', end_date: '9999-12-31' } }));
    expect(where(late)).toEqual(['invalid_partitions /partitions/end_date']);
    expect(late[0]!.message).toBe('"9999-12-31" is outside the dates partitions can use (1900-01-01 to 2999-12-31)');
    expect((await report(pair('extract', 'load', { partitions: { type: 'daily', start_date: '1900-01-01', end_date: '2999-12-31' } }))).valid).toBe(true);
  });
});

describe('crons Dagster refuses', () => {
  it('refuses "H 0 * * *" and "0 0 * * 5L" at their paths', async () => {
    const schedules = [{ id: 'hashed', cron: 'H 0 * * *' }, { id: 'last_friday', cron: '0 0 * * 5L' }];
    const found = await errors(pair('extract', 'load', { schedules }));
    expect(where(found)).toEqual(['invalid_cron /schedules/0/cron', 'invalid_cron /schedules/1/cron']);
    expect(found[1]!.message).toBe('cron "0 0 * * 5L" uses "L" (last) in the day of week field ("5L"), a cron extension Dagster and this service do not both accept; use numbers, names, ranges, lists and steps');
  });
});

describe('blocks named inside config', () => {
  const alert = (monitored: string[]) => ({ id: 'on_failed_checks', type: 'data_quality_alert_sensor@1', config: { monitored_checks: monitored } });
  const withCheck = (monitored: string[]) => ({
    ...pair(),
    blocks: [extract(), load(), ingest(), quality('orders_checks')],
    edges: [edge('extract', 'rows', 'load', 'rows'), edge('ingest', 'tables', 'orders_checks', 'tables')],
    sensors: [alert(monitored)],
  });

  it('accepts a data-quality sensor watching a quality block of the pipeline', async () => {
    expect(await report(withCheck(['orders_checks']))).toMatchObject({ valid: true, errors: [] });
  });

  it('refuses one naming a block that does not exist, or one that is not a quality block', async () => {
    const found = await errors(withCheck(['orders_checks', 'order_checks', 'extract']));
    expect(where(found)).toEqual(['unknown_block /sensors/0/config/monitored_checks/1', 'wrong_block_category /sensors/0/config/monitored_checks/2']);
    expect(found[0]!.message).toBe('"order_checks" names no block of this pipeline');
    expect(found[0]!.hint).toBe("Name one of this pipeline's quality blocks: orders_checks.");
    expect(found[1]!.message).toBe('block "extract" is a source block (postgres_incremental_extract@1), and this field takes quality blocks');
  });

  it('says to add a quality block when the pipeline has none', async () => {
    const found = await errors({ ...pair(), sensors: [alert(['extract'])] });
    expect(where(found)).toEqual(['wrong_block_category /sensors/0/config/monitored_checks/0']);
    expect(found[0]!.hint).toContain('has no quality block');
  });

  it('keeps a file sensor inside its directory: absolute, no ".." in prefix or pattern', async () => {
    const onFiles = (config: Record<string, unknown>) => ({ ...pair(), sensors: [{ id: 'on_files', type: 'file_arrival_sensor@1', config }] });
    expect(await report(onFiles({ local_directory: '/data/in', prefix: 'orders/', pattern: '**/*.csv' }))).toMatchObject({ valid: true });
    const found = await errors(onFiles({ local_directory: 'data/in', prefix: '../etc/', pattern: '/x/*' }));
    expect(where(found).sort()).toEqual(['invalid_config /sensors/0/config/local_directory', 'invalid_config /sensors/0/config/pattern', 'invalid_config /sensors/0/config/prefix']);
    expect(found.find((i) => i.path.endsWith('local_directory'))!.hint).toContain('an absolute path');
  });

  it('accepts a data-quality sensor on alert files alone, and wants checks or a folder', async () => {
    const onFiles = { id: 'on_alert_files', type: 'data_quality_alert_sensor@1', config: { alert_directory: '/app/quality/alerts' } };
    expect(await report({ ...pair(), sensors: [onFiles] })).toMatchObject({ valid: true, errors: [] });
    const found = await errors({ ...pair(), sensors: [{ ...onFiles, config: {} }] });
    expect(where(found)).toEqual([
      'invalid_config /sensors/0/config/monitored_checks',
      'invalid_config /sensors/0/config/alert_directory',
      'invalid_config /sensors/0/config',
    ]);
    expect(found[1]!.hint).toContain('Give this, monitored_checks, or both.');
  });
});
