import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import { AppError } from '../../src/errors.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { PIPELINE, flagshipSpec, typesFor } from './fixtures.ts';

const compile = (spec: PipelineSpec, pipeline = PIPELINE) => compilePipeline(pipeline, spec, typesFor(spec));

describe('compile', () => {
  it('writes the flagship pipeline as readable Dagster code', async () => {
    const out = compile(flagshipSpec());
    // The snapshots are the location the block library's pytest suite loads and runs, so the
    // compiler's output and what the library is tested against cannot drift apart.
    const fixture = '../../blocks/python/tests/fixtures/customers_location';
    await expect(out.files['definitions.py']).toMatchFileSnapshot(`${fixture}/definitions.py`);
    await expect(out.files['pipeline.json']).toMatchFileSnapshot(`${fixture}/pipeline.json`);
    await expect(out.files['requirements.txt']).toMatchFileSnapshot('__snapshots__/flagship/requirements.txt');
    expect(out.locationName).toBe('pipeline_6f1c2d3e0000');
  });

  it('fills config defaults in pipeline.json and keeps secret names, never values', () => {
    const data = JSON.parse(compile(flagshipSpec()).files['pipeline.json']!);
    expect(data.blocks.extract_customers.config).toMatchObject({ created_at_column: 'created_at', updated_at_column: 'updated_at', primary_key: ['id'], batch_size: 10000, connection_secret: 'SOURCE_DB_URL' });
    expect(data.blocks.load_customers.config).toMatchObject({ version_column: 'updated_at', database: 'default' });
    expect(data.blocks.extract_customers.downstream).toEqual(['load_customers']);
    expect(data.blocks.extract_customers.retry_policy).toEqual({ max_retries: 3, delay_seconds: 10, backoff: 'exponential', jitter: null });
    expect(data.schedules.every_6_hours).toEqual({ job: 'all_blocks', cron: '0 */6 * * *', timezone: 'UTC', description: null });
    expect(data.run_tags).toEqual({ 'constellation/pipeline_id': PIPELINE.id, 'constellation/pipeline_version': '3' });
  });

  it('is deterministic: same spec, same bytes and hash, whatever the key order', () => {
    const a = compile(flagshipSpec());
    const reordered = flagshipSpec();
    reordered.blocks[0]!.config = Object.fromEntries(Object.entries(reordered.blocks[0]!.config).reverse());
    const b = compile(reordered);
    expect(b.files).toEqual(a.files);
    expect(b.contentHash).toBe(a.contentHash);
    expect(compile(flagshipSpec(), { ...PIPELINE, version: 4 }).contentHash).not.toBe(a.contentHash);
  });

  it('uses the declared jobs, adding the all-blocks job only for schedules without one', () => {
    const spec = { ...flagshipSpec(), jobs: [{ id: 'nightly', blocks: ['extract_customers', 'load_customers'] }], schedules: [{ id: 'at_two', job: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin' }] };
    const py = compile(spec).files['definitions.py']!;
    expect(py).toContain('nightly = pipeline.asset_job("nightly")');
    expect(py).toContain('at_two = pipeline.schedule("at_two", job=nightly)');
    expect(py).not.toContain('all_blocks');
  });

  it('passes a list to a port that takes several edges', () => {
    const spec = flagshipSpec();
    spec.blocks.push({ id: 'extract_orders', type: 'postgres_incremental_extract@1', config: { table: 'orders' } });
    spec.blocks.push({ id: 'to_duckdb', type: 'duckdb_load@1', config: { database_path: '/data/w.duckdb', table: 'customers' } });
    spec.edges.push({ from: { block: 'extract_orders', port: 'rows' }, to: { block: 'to_duckdb', port: 'rows' } });
    const py = compile(spec).files['definitions.py']!;
    expect(py).toContain('def to_duckdb(context: dg.AssetExecutionContext, extract_orders):');
    expect(py).toContain('return duckdb.load_table(context, pipeline.block("to_duckdb"), rows=extract_orders)');
    expect(py).toContain('from constellation_blocks import clickhouse, duckdb, postgres');
  });

  it('takes an upstream once as a parameter when it feeds two input ports of one block', () => {
    // No implemented type has two inputs yet; a DuckDB load given a second one stands in for it.
    const spec = flagshipSpec();
    spec.blocks.push({ id: 'to_duckdb', type: 'duckdb_load@1', config: { database_path: '/data/w.duckdb', table: 'customers' } });
    spec.edges.push({ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'to_duckdb', port: 'rows' } });
    spec.edges.push({ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'to_duckdb', port: 'previous' } });
    const types = typesFor(spec);
    const duckdb = types.get('to_duckdb')!;
    types.set('to_duckdb', { ...duckdb, inputs: [...duckdb.inputs, { ...duckdb.inputs[0]!, name: 'previous', required: false }] });
    const py = compilePipeline(PIPELINE, spec, types).files['definitions.py']!;
    expect(py).toContain('def to_duckdb(context: dg.AssetExecutionContext, extract_customers):');
    expect(py).toContain('return duckdb.load_table(context, pipeline.block("to_duckdb"), rows=extract_customers, previous=extract_customers)');
  });

  it('refuses block types and sensors the library does not implement, naming each', () => {
    const spec = flagshipSpec();
    spec.blocks.push({ id: 'transform', type: 'dbt_run@1', config: { project_dir: '/dbt' } });
    spec.sensors.push({ id: 'on_release', type: 'github_release_sensor@1', config: { repository: 'a/b' } });
    let error: AppError | undefined;
    try {
      compile(spec);
    } catch (e) {
      error = e as AppError;
    }
    expect(error?.code).toBe('not_implemented:compile');
    expect(error?.issues.map((i) => i.path).sort()).toEqual(['/blocks/2/type', '/sensors/0/type']);
    expect(error?.issues.find((i) => i.path === '/blocks/2/type')?.message).toContain('dbt_run@1');
  });

  it('never lets a user-written value change the Python source, and round-trips every value exactly', () => {
    const base = compile(flagshipSpec()).files['definitions.py'];
    const hostile = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('"""', "'''", '\\', '\n', '\r\n', '\\u0000', '\u2028', '__import__("os").system("rm -rf /")', '"); import os #', '{x}', '${x}', '\\N{BULLET}'),
    );
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (name, description, table, secret) => {
        const spec = flagshipSpec();
        spec.name = name;
        spec.blocks[0]!.name = name;
        spec.blocks[0]!.description = description;
        spec.blocks[0]!.config = { ...spec.blocks[0]!.config, table, connection_secret: secret };
        spec.blocks[1]!.config = { ...spec.blocks[1]!.config, table: description };
        const out = compile(spec, { ...PIPELINE, name, description });
        expect(out.files['definitions.py']).toBe(base);
        const data = JSON.parse(out.files['pipeline.json']!);
        expect(data.pipeline.name).toBe(name);
        expect(data.pipeline.description).toBe(description);
        expect(data.blocks.extract_customers).toMatchObject({ name, description, config: { table, connection_secret: secret } });
        expect(data.blocks.load_customers.config.table).toBe(description);
      }),
      { numRuns: 300 },
    );
  });
});
