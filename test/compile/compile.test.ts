import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePipeline, PIPELINE_FORMAT } from '../../src/compile/compile-pipeline.ts';
import { defsYaml } from '../../src/compile/defs-yaml.ts';
import { AppError } from '../../src/errors.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { PIPELINE, featuresSpec, flagshipSpec, icebergSpec, lakeSpec, triggersSpec, typesFor, warehouseReadSpec } from './fixtures.ts';
import { seed004Spec } from './seed-004.ts';

const compile = (spec: PipelineSpec, pipeline = PIPELINE) => compilePipeline(pipeline, spec, typesFor(spec));
const pipelineJsonOf = (spec: PipelineSpec, pipeline = PIPELINE) => JSON.parse(compile(spec, pipeline).files['pipeline.json']!);

describe('compile', () => {
  it('writes the flagship pipeline as a component folder: a fixed defs.yaml and a readable pipeline.json', async () => {
    const out = compile(flagshipSpec());
    expect(Object.keys(out.files)).toEqual(['defs.yaml', 'pipeline.json']);
    await expect(out.files['defs.yaml']).toMatchFileSnapshot('__snapshots__/flagship/defs.yaml');
    await expect(out.files['pipeline.json']).toMatchFileSnapshot('__snapshots__/flagship/pipeline.json');
    expect(out).toMatchObject({
      componentName: 'customers_clickhouse',
      orgSlug: 'local',
      format: PIPELINE_FORMAT,
      requirements: ['clickhouse-driver==0.2.11', 'psycopg[binary]==3.3.9'],
      jobs: ['all_blocks'],
      defaultJob: 'all_blocks',
      dagsterJobs: { all_blocks: 'customers_clickhouse__all_blocks' },
      legacyLocationName: 'pipeline_6f1c2d3e0000',
    });
  });

  it('fills config defaults in pipeline.json, keeps secret names (never values) and gives every Dagster name made', () => {
    const data = pipelineJsonOf(flagshipSpec());
    expect(data.format).toBe(2);
    expect(data.pipeline).toEqual({ id: PIPELINE.id, name: 'Customers → ClickHouse', description: null, version: 3, slug: 'customers_clickhouse', org: 'local' });
    expect(data.namespace).toEqual({ asset_key_prefix: ['local', 'customers_clickhouse'], group: 'customers_clickhouse' });
    expect(data.blocks.extract_customers.config).toMatchObject({ created_at_column: 'created_at', updated_at_column: 'updated_at', primary_key: ['id'], batch_size: 10000, connection_secret: 'SOURCE_DB_URL' });
    expect(data.blocks.load_customers.config).toMatchObject({ version_column: 'updated_at', database: 'default' });
    expect(data.blocks.extract_customers).toMatchObject({ downstream: ['load_customers'], inputs: [], resource_key: 'customers_clickhouse__extract_customers_postgres' });
    expect(data.blocks.load_customers).toMatchObject({ downstream: [], inputs: [{ port: 'rows', upstream: ['extract_customers'], multiple: false }], resource_key: 'customers_clickhouse__load_customers_clickhouse' });
    expect(data.blocks.extract_customers.retry_policy).toEqual({ max_retries: 3, delay_seconds: 10, backoff: 'exponential', jitter: null });
    expect(data.jobs).toEqual({ all_blocks: { name: 'customers_clickhouse__all_blocks', blocks: ['extract_customers', 'load_customers'], description: null, checks: true } });
    expect(data.schedules.every_6_hours).toEqual({ name: 'customers_clickhouse__every_6_hours', job: 'all_blocks', cron: '0 */6 * * *', timezone: 'UTC', description: null });
    expect(data.sensors).toEqual({});
    expect(data.run_tags).toEqual({ 'constellation/pipeline_id': PIPELINE.id, 'constellation/pipeline_version': '3' });
  });

  it('is deterministic: same spec and slugs, same bytes and hash, whatever the key order', () => {
    const a = compile(flagshipSpec());
    const reordered = flagshipSpec();
    reordered.blocks[0]!.config = Object.fromEntries(Object.entries(reordered.blocks[0]!.config).reverse());
    const b = compile(reordered);
    expect(b.files).toEqual(a.files);
    expect(b.contentHash).toBe(a.contentHash);
    expect(compile(flagshipSpec()).contentHash).toBe(a.contentHash);
    expect(compile(flagshipSpec(), { ...PIPELINE, version: 4 }).contentHash).not.toBe(a.contentHash);
    expect(compile(flagshipSpec(), { ...PIPELINE, slug: 'customers' }).contentHash).not.toBe(a.contentHash);
    expect(compile(flagshipSpec(), { ...PIPELINE, orgSlug: 'acme' }).contentHash).not.toBe(a.contentHash);
  });

  it('uses the declared jobs, adding the all-blocks job only for schedules without one', () => {
    const spec = { ...flagshipSpec(), jobs: [{ id: 'nightly', blocks: ['extract_customers', 'load_customers'], description: 'Every night' }], schedules: [{ id: 'at_two', job: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin' }] };
    const out = compile(spec);
    expect(out).toMatchObject({ jobs: ['nightly'], defaultJob: null, dagsterJobs: { nightly: 'customers_clickhouse__nightly' } });
    const data = JSON.parse(out.files['pipeline.json']!);
    expect(data.jobs).toEqual({ nightly: { name: 'customers_clickhouse__nightly', blocks: ['extract_customers', 'load_customers'], description: 'Every night', checks: true } });
    expect(data.schedules.at_two).toMatchObject({ name: 'customers_clickhouse__at_two', job: 'nightly', timezone: 'Europe/Berlin' });
  });

  it('lists the default job last, under an id no spec id takes', () => {
    const spec = flagshipSpec();
    spec.blocks[1]!.id = 'all_blocks';
    spec.edges[0]!.to.block = 'all_blocks';
    spec.jobs = [{ id: 'extract_only', blocks: ['extract_customers'] }];
    const out = compile(spec);
    expect(out.jobs).toEqual(['extract_only', 'all_blocks_2']);
    expect(out.dagsterJobs).toEqual({ extract_only: 'customers_clickhouse__extract_only', all_blocks_2: 'customers_clickhouse__all_blocks_2' });
  });

  it('compiles S3 files through files_to_table into a DuckDB load, with the S3 defaults and secret names filled in', () => {
    const spec = lakeSpec();
    const out = compile(spec);
    const data = JSON.parse(out.files['pipeline.json']!);
    expect(data.blocks.landing).toMatchObject({
      type: 's3_files@1',
      config: { bucket: 'raw-data', endpoint_url: 'http://garage:3900', prefix: 'exports/orders/', pattern: '**/*.csv', region: 'garage', access_key_id_secret: 'AWS_ACCESS_KEY_ID', secret_access_key_secret: 'LANDING_SECRET' },
      downstream: ['parsed'],
      inputs: [],
      // The S3 blocks bind their own store; files_to_table reads through the references it gets.
      resource_key: null,
    });
    expect(data.blocks.parsed).toMatchObject({ type: 'files_to_table@1', config: { format: 'auto', columns: { id: 'integer' } }, inputs: [{ port: 'files', upstream: ['landing'], multiple: true }], resource_key: null });
    expect(data.blocks.load).toMatchObject({ inputs: [{ port: 'rows', upstream: ['parsed'], multiple: false }] });
    expect(out.requirements).toEqual(['boto3==1.44.8', 'duckdb==1.5.6', 'pyarrow==26.0.1']);
  });

  it('compiles a DuckDB table read after a dbt run, its after input a list of the blocks it waits for', () => {
    const out = compile(warehouseReadSpec());
    const data = JSON.parse(out.files['pipeline.json']!);
    expect(data.blocks.read).toMatchObject({
      type: 'duckdb_table_read@1',
      config: { database_path: '/data/tracker.duckdb', table: 'analytics.issues_per_user', columns: ['login', 'open_issues'] },
      inputs: [{ port: 'after', upstream: ['transform'], multiple: true }],
      downstream: ['load'],
      resource_key: null,
    });
    expect(data.blocks.transform.downstream).toEqual(['read']);
    expect(data.blocks.load.inputs).toEqual([{ port: 'rows', upstream: ['read'], multiple: false }]);
    expect(out.requirements).toEqual(expect.arrayContaining(['dagster-dbt==0.29.27', 'duckdb==1.5.6', 'pyarrow==26.0.1']));
  });

  it('compiles Iceberg writes and reads with their catalog settings, defaults and secret names, pinning pyiceberg', () => {
    const data = pipelineJsonOf(icebergSpec());
    expect(data.blocks.lake).toMatchObject({
      type: 'iceberg_table_write@1',
      config: {
        catalog_uri: 'sqlite:////data/iceberg/catalog.db', warehouse: 's3://lake/warehouse', namespace: 'analytics', table: 'orders', mode: 'upsert', key_columns: ['order_id'],
        create_table_if_missing: true, region: 'garage', access_key_id_secret: 'AWS_ACCESS_KEY_ID', secret_access_key_secret: 'LAKE_SECRET',
      },
      inputs: [{ port: 'rows', upstream: ['parsed'], multiple: false }],
      // Both bind their own catalog: no shared connection resource.
      resource_key: null,
    });
    expect(data.blocks.from_lake).toMatchObject({ type: 'iceberg_table_read@1', config: { catalog_uri_secret: 'ICEBERG_CATALOG_URL', row_filter: "status = 'paid'", region: 'garage' }, downstream: ['load'], inputs: [], resource_key: null });
    expect(data.blocks.from_lake.config).not.toHaveProperty('catalog_uri');
    expect(compile(icebergSpec()).requirements).toEqual(['boto3==1.44.8', 'duckdb==1.5.6', 'pyarrow==26.0.1', 'pyiceberg[sql-sqlite,sql-postgres,pyarrow]==0.12.0']);
  });

  it('passes a list to a port that takes several edges (files_to_table reading two listings)', () => {
    const spec = lakeSpec();
    spec.blocks.push({ id: 'archive', type: 's3_files@1', config: { bucket: 'archive', endpoint_url: 'http://garage:3900' } });
    spec.edges.push({ from: { block: 'archive', port: 'files' }, to: { block: 'parsed', port: 'files' } });
    const data = pipelineJsonOf(spec);
    expect(data.blocks.parsed.inputs).toEqual([{ port: 'files', upstream: ['landing', 'archive'], multiple: true }]);
    expect(data.blocks.archive.downstream).toEqual(['parsed']);
  });

  it('compiles a DuckDB SQL transform joining two extracts into feature engineering, output table names defaulted', () => {
    const out = compile(featuresSpec());
    const data = JSON.parse(out.files['pipeline.json']!);
    expect(data.blocks.eu_orders).toMatchObject({
      type: 'duckdb_sql_transform@1',
      config: { sql: "SELECT o.* FROM orders o JOIN customers c USING (customer_id) WHERE c.region = 'eu'", output_table: 'result' },
      inputs: [{ port: 'tables', upstream: ['orders', 'customers'], multiple: true }],
      // In-memory DuckDB: no connection, no file.
      resource_key: null,
    });
    expect(data.blocks.customer_features).toMatchObject({
      type: 'feature_engineering@1',
      config: { entity_key: ['customer_id'], timestamp_column: 'created_at', output_table: 'features' },
      inputs: [{ port: 'rows', upstream: ['eu_orders'], multiple: false }],
      downstream: ['load'],
      resource_key: null,
    });
    expect(data.blocks.customer_features.config.features).toEqual([{ name: 'orders_7d', aggregation: 'count', window: '7d' }, { name: 'last_ratio', expression: 'total / nullif(items, 0)' }]);
    expect(out.requirements).toEqual(['duckdb==1.5.6', 'psycopg[binary]==3.3.9', 'pyarrow==26.0.1']);
  });

  it('names an upstream once per port when it feeds two input ports of one block', () => {
    // No implemented type has two inputs yet; a DuckDB load given a second one stands in for it.
    const spec = flagshipSpec();
    spec.blocks.push({ id: 'to_duckdb', type: 'duckdb_load@1', config: { database_path: '/data/w.duckdb', table: 'customers' } });
    spec.edges.push({ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'to_duckdb', port: 'rows' } });
    spec.edges.push({ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'to_duckdb', port: 'previous' } });
    const types = typesFor(spec);
    const duckdb = types.get('to_duckdb')!;
    types.set('to_duckdb', { ...duckdb, inputs: [...duckdb.inputs, { ...duckdb.inputs[0]!, name: 'previous', required: false, multiple: false }] });
    const data = JSON.parse(compilePipeline(PIPELINE, spec, types).files['pipeline.json']!);
    expect(data.blocks.to_duckdb.inputs).toEqual([
      { port: 'rows', upstream: ['extract_customers'], multiple: false },
      { port: 'previous', upstream: ['extract_customers'], multiple: false },
    ]);
  });

  it('refuses block types and sensor settings the library does not implement, naming each', () => {
    const spec = flagshipSpec();
    // Every built-in type compiles today: a registered type of the catalog the library lacks stands in.
    spec.blocks.push({ id: 'spark', type: 'spark_job@1', config: {} });
    spec.sensors.push({ id: 'on_upload', type: 'file_arrival_sensor@1', config: { bucket: 'landing', endpoint_url: 'http://garage:3900' } });
    const types = typesFor(spec);
    types.set('spark', { ...types.get('load_customers')!, slug: 'spark_job', version: 1, ref: 'spark_job@1' });
    let error: AppError | undefined;
    try {
      compilePipeline(PIPELINE, spec, types);
    } catch (e) {
      error = e as AppError;
    }
    expect(error?.code).toBe('not_implemented:compile');
    expect(error?.issues.map((i) => i.path).sort()).toEqual(['/blocks/2/type', '/sensors/0/config/bucket']);
    const refused = error?.issues.find((i) => i.path === '/blocks/2/type');
    expect(refused?.message).toContain('spark_job@1');
    expect(refused?.hint).toContain('iceberg_table_write@1');
    expect(error?.issues.find((i) => i.path === '/sensors/0/config/bucket')?.hint).toContain('local_directory');
  });

  it('compiles sensors and several jobs into pipeline.json, each sensor on its job with its defaults', async () => {
    const spec = triggersSpec();
    const out = compile(spec);
    await expect(out.files['pipeline.json']).toMatchFileSnapshot('__snapshots__/triggers/pipeline.json');
    const data = JSON.parse(out.files['pipeline.json']!);
    expect(data.jobs.emergency_refresh).toEqual({ name: 'customers_clickhouse__emergency_refresh', blocks: ['extract_customers', 'load_customers'], description: null, checks: false });
    expect(data.sensors.on_release).toEqual({
      name: 'customers_clickhouse__on_release',
      type: 'github_release_sensor@1',
      job: 'release_triggered',
      config: { repository: 'acme/app', include_prereleases: false, minimum_interval_seconds: 300, token_secret: 'GITHUB_TOKEN', api_url: 'https://api.github.com' },
      description: null,
    });
    expect(data.sensors.on_upload).toMatchObject({ job: 'all_blocks', config: { local_directory: '/data/incoming', prefix: '', pattern: '*.csv', minimum_interval_seconds: 30 } });
    expect(data.sensors.on_alert).toMatchObject({ job: 'emergency_refresh', config: { alert_directory: '/data/alerts', severity: 'ERROR', minimum_interval_seconds: 60 } });
    expect(out.jobs).toEqual(['daily_full', 'release_triggered', 'emergency_refresh', 'all_blocks']);
  });

  it('writes the seed 004 stack (dlt, Airbyte, dbt, Great Expectations, DataHub) with its six jobs and its triggers', async () => {
    const spec = seed004Spec();
    // Name and description from the spec, as the compile service passes them.
    const out = compile(spec, { ...PIPELINE, name: spec.name, description: spec.description ?? null, slug: 'issue_tracker_stack' });
    await expect(out.files['defs.yaml']).toMatchFileSnapshot('__snapshots__/seed-004/defs.yaml');
    await expect(out.files['pipeline.json']).toMatchFileSnapshot('__snapshots__/seed-004/pipeline.json');
    // The shard's requirements file installs these: a block whose integration is missing fails at load.
    expect(out.requirements).toEqual(
      expect.arrayContaining(['dagster-dlt==0.29.27', 'dagster-dbt==0.29.27', 'dagster-airbyte==0.29.27', 'great-expectations==1.24.1', 'acryl-datahub[datahub-rest]==1.7.0.17']),
    );
    // Every schedule and sensor names one of the spec's jobs, so no all-blocks job is added.
    const jobs = ['daily_full_pipeline', 'incremental_sync', 'transformation_only', 'data_quality_only', 'release_triggered', 'emergency_data_refresh'];
    expect(out).toMatchObject({ jobs, defaultJob: null, dagsterJobs: Object.fromEntries(jobs.map((id) => [id, `issue_tracker_stack__${id}`])) });

    // A secret field holds the name of an environment variable (the manifest's default when the spec gives none), never its value.
    const data = JSON.parse(out.files['pipeline.json']!);
    const types = typesFor(spec);
    const entries = Object.entries({ ...data.blocks, ...data.sensors } as Record<string, { config: Record<string, unknown> }>);
    const secretFields = entries.flatMap(([id, { config }]) =>
      types.get(id)!.secrets.flatMap((s) => (s.config_field ? [[`${id}.${s.config_field}`, config[s.config_field]] as const] : [])),
    );
    expect(Object.fromEntries(secretFields)).toEqual({
      'load_tracker.source_credentials_secret': 'DLT_SOURCE_CREDENTIALS',
      'load_tracker.destination_credentials_secret': 'DLT_DESTINATION_CREDENTIALS',
      'sync_payments.api_token_secret': 'AIRBYTE_API_TOKEN',
      'check_issues.connection_secret': 'POSTGRES_URL',
      'publish_lineage.token_secret': 'DATAHUB_GMS_TOKEN',
      'new_exports.access_key_id_secret': 'AWS_ACCESS_KEY_ID',
      'new_exports.secret_access_key_secret': 'AWS_SECRET_ACCESS_KEY',
      'new_release.token_secret': 'GITHUB_TOKEN',
    });
    for (const [field, value] of secretFields) expect(value, field).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('compiles ids that only a generated definitions.py had to refuse', () => {
    // Its module names, and a block named as the resource parameter of the block it feeds.
    const spec = flagshipSpec();
    spec.blocks[0]!.id = 'load_customers_clickhouse';
    spec.edges[0]!.from.block = 'load_customers_clickhouse';
    spec.jobs = [{ id: 'defs', blocks: ['load_customers_clickhouse', 'load_customers'] }, { id: 'pipeline', blocks: ['load_customers'] }];
    spec.schedules = [{ id: 'dg', job: 'defs', cron: '@daily', timezone: 'UTC' }];
    const data = pipelineJsonOf(spec);
    expect(data.blocks.load_customers_clickhouse.resource_key).toBe('customers_clickhouse__load_customers_clickhouse_postgres');
    expect(data.blocks.load_customers.resource_key).toBe('customers_clickhouse__load_customers_clickhouse');
    expect(Object.keys(data.jobs)).toEqual(['defs', 'pipeline']);
  });

  it('gives two pipelines with the same ids in one location no Dagster name in common', () => {
    const namesOf = (slug: string) => {
      const data = pipelineJsonOf(flagshipSpec(), { ...PIPELINE, slug });
      return [
        ...Object.keys(data.blocks).map((id) => JSON.stringify([...data.namespace.asset_key_prefix, id])),
        data.namespace.group,
        ...Object.values(data.jobs).map((j) => (j as { name: string }).name),
        ...Object.values(data.schedules).map((s) => (s as { name: string }).name),
        ...Object.values(data.blocks).map((b) => (b as { resource_key: string }).resource_key),
      ];
    };
    // "customers" + "__" + "clickhouse_…" could only meet "customers_clickhouse" + "__" + … if a slug held "__".
    const a = namesOf('customers');
    const b = namesOf('customers_clickhouse');
    expect(a.filter((name) => b.includes(name))).toEqual([]);
  });

  it('refuses slugs the store never makes, since names built from them could collide', () => {
    for (const slug of ['', 'Sales', '1sales', 'sales__eu', 'sales_', 'a'.repeat(41), 'sales-eu']) {
      expect(() => compile(flagshipSpec(), { ...PIPELINE, slug }), slug).toThrow(/not a slug/);
      expect(() => compile(flagshipSpec(), { ...PIPELINE, orgSlug: slug }), slug).toThrow(/not a slug/);
    }
  });
});

describe('defs.yaml holds no user text', () => {
  const template = defsYaml(PIPELINE.id, PIPELINE.version);

  it('is the fixed template, whatever the spec holds', () => {
    expect(template).toBe(
      '# Pipeline 6f1c2d3e-0000-4000-8000-000000000000, version 3: written by Constellation Agent. Settings are in pipeline.json.\n' +
        'type: constellation_blocks.PipelineComponent\nattributes:\n  pipeline_file: pipeline.json\n',
    );
  });

  it('stays the template when names and descriptions hold Jinja, which Dagster would render', () => {
    const jinja = ['{{ 7*7 }}', "{{ env('HOME') }}", '{% for x in range(3) %}x{% endfor %}', '{# comment #}', '{%- raw -%}{{', '${X}'];
    for (const text of jinja) {
      const spec = flagshipSpec();
      spec.name = text;
      spec.description = text;
      spec.blocks[0]!.name = text;
      spec.blocks[0]!.description = text;
      spec.schedules[0]!.description = text;
      const out = compile(spec, { ...PIPELINE, name: text, description: text });
      expect(out.files['defs.yaml']).toBe(template);
      const data = JSON.parse(out.files['pipeline.json']!);
      expect([data.pipeline.name, data.pipeline.description, data.blocks.extract_customers.name, data.schedules.every_6_hours.description]).toEqual([text, text, text, text]);
    }
  });

  it('never carries a user-written value, and pipeline.json round-trips every one exactly', () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('"""', "'''", '\\', '\n', '\r\n', '\\u0000', '\u2028', '__import__("os").system("rm -rf /")', '"); import os #', '{{ 7*7 }}', '{% if 1 %}', '${x}', 'type: x', '---\nattributes: {}', '\\N{BULLET}'),
    );
    // A marker no template line holds, so that "appears in defs.yaml" means it came from the spec.
    const marked = hostile.map((text) => `zq${text}`);
    fc.assert(
      fc.property(marked, marked, marked, marked, marked, (name, description, table, secret, cron) => {
        const spec = flagshipSpec();
        spec.name = name;
        spec.description = description;
        spec.blocks[0]!.name = name;
        spec.blocks[0]!.description = description;
        spec.blocks[0]!.config = { ...spec.blocks[0]!.config, table, connection_secret: secret };
        spec.blocks[1]!.config = { ...spec.blocks[1]!.config, table: description };
        spec.jobs = [{ id: 'everything', blocks: ['extract_customers', 'load_customers'], description }];
        spec.schedules = [{ id: 'every_6_hours', job: 'everything', cron, timezone: 'UTC', description: name }];
        const out = compile(spec, { ...PIPELINE, name, description });
        expect(out.files['defs.yaml']).toBe(template);
        for (const value of [name, description, table, secret, cron]) expect(out.files['defs.yaml']).not.toContain(value);
        // Nor does it reach any Dagster name: those are made from slugs and ids only.
        expect(out.dagsterJobs).toEqual({ everything: 'customers_clickhouse__everything' });
        const data = JSON.parse(out.files['pipeline.json']!);
        expect(data.pipeline.name).toBe(name);
        expect(data.pipeline.description).toBe(description);
        expect(data.blocks.extract_customers).toMatchObject({ name, description, config: { table, connection_secret: secret } });
        expect(data.blocks.load_customers.config.table).toBe(description);
        expect(data.jobs.everything.description).toBe(description);
        expect(data.schedules.every_6_hours).toMatchObject({ cron, description: name });
      }),
      { numRuns: 300 },
    );
  });

  it('takes only a pipeline UUID and a version number', () => {
    expect(() => defsYaml('{{ 7*7 }}', 1)).toThrow(/UUID/);
    expect(() => defsYaml(PIPELINE.id.toUpperCase(), 1)).toThrow(/UUID/);
    expect(() => defsYaml(PIPELINE.id, 0)).toThrow(/version/);
    expect(() => defsYaml(PIPELINE.id, 1.5)).toThrow(/version/);
  });
});
