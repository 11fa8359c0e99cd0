import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAGSTER_YAML } from '../../src/adapters/dagster/instance-config.ts';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { shardName, withMember } from '../../src/dagster/shard-files.ts';
import { PIPELINE, typesFor } from '../compile/fixtures.ts';
import { DAGSTER_ONLY } from '../pipelines/spec-fixtures.ts';
import { VENV_BIN } from '../support/dagster-server.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Issue 11: ids Dagster refuses validated, compiled and failed at load. Now a spec using every one
// of them is refused with a hint per id; the spec renamed as the hints say validates, compiles, and
// loads in the pinned Dagster as a member of a shard. (Since issue 12 no Python is generated, so a
// block id that once took a generated resource key, load_customers_clickhouse, is valid.)

const extract = (id: string, table: string) => ({ id, type: 'postgres_incremental_extract@1', config: { table, connection_secret: 'SOURCE_DB_URL' } });
const load = (id: string, table: string) => ({ id, type: 'clickhouse_replacing_merge_tree_load@1', config: { table, order_by: ['id'], connection_secret: 'WAREHOUSE_URL' } });
const edge = (from: string, to: string) => ({ from: { block: from, port: 'rows' }, to: { block: to, port: 'rows' } });

/** input → output, load_customers_clickhouse → load_customers; the other bad names as jobs and schedules. */
function badSpec(): PipelineSpec {
  const [inputName, outputName, ...rest] = DAGSTER_ONLY as [string, string, ...string[]];
  const scheduleNames = rest.slice(0, 2);
  const jobNames = rest.slice(2);
  const blocks = [inputName, outputName, 'load_customers_clickhouse', 'load_customers'];
  return {
    name: 'every name Dagster refuses',
    blocks: [extract(inputName, 'public.orders'), load(outputName, 'orders'), extract('load_customers_clickhouse', 'public.customers'), load('load_customers', 'customers')],
    edges: [edge(inputName, outputName), edge('load_customers_clickhouse', 'load_customers')],
    jobs: jobNames.map((id) => ({ id, blocks })),
    schedules: scheduleNames.map((id, i) => ({ id, job: jobNames[i]!, cron: '0 */6 * * 1-5', timezone: 'Europe/Berlin' })),
    sensors: [],
    partitions: { type: 'static', values: ['eu', 'north america', '2024-01'] },
  };
}

/** Renames an id everywhere the spec refers to it. */
function rename(spec: PipelineSpec, from: string, to: string): PipelineSpec {
  const swap = (id: string) => (id === from ? to : id);
  return {
    ...spec,
    blocks: spec.blocks.map((b) => ({ ...b, id: swap(b.id) })),
    edges: spec.edges.map((e) => ({ from: { ...e.from, block: swap(e.from.block) }, to: { ...e.to, block: swap(e.to.block) } })),
    jobs: spec.jobs.map((j) => ({ ...j, id: swap(j.id), blocks: j.blocks.map(swap) })),
    schedules: spec.schedules.map((s) => ({ ...s, id: swap(s.id), ...(s.job ? { job: swap(s.job) } : {}) })),
  };
}

describe('names Dagster refuses, end to end', () => {
  let t: TestApp;
  let home: string;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    home = mkdtempSync(join(tmpdir(), 'dagster-names-'));
    writeFileSync(join(home, 'dagster.yaml'), DAGSTER_YAML);
  });
  afterAll(async () => {
    await t.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** Writes a compiled component into a shard project and runs `dagster definitions validate -m <shard>.definitions` on it. */
  function dagsterValidate(component: { componentName: string; files: Record<string, string>; requirements: string[] }, name: string) {
    const dir = join(home, name);
    const shard = shardName('local', 1);
    for (const [path, content] of Object.entries(withMember(shard, {}, component))) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return spawnSync(join(VENV_BIN, 'dagster'), ['definitions', 'validate', '-m', `${shard}.definitions`, '-d', dir], {
      cwd: dir,
      env: { ...process.env, DAGSTER_HOME: home, DAGSTER_DISABLE_TELEMETRY: '1' },
      encoding: 'utf8',
    });
  }

  it('the names were loaded by nothing before: compiled as they are, Dagster refuses them', () => {
    // Compiling without validation (as a version stored before the rules would be) shows why.
    const spec = badSpec();
    spec.blocks[2]!.id = 'customers_extract';
    spec.edges[1]!.from.block = 'customers_extract';
    spec.jobs = spec.jobs.map((j) => ({ ...j, blocks: j.blocks.map((b) => (b === 'load_customers_clickhouse' ? 'customers_extract' : b)) }));
    const result = dagsterValidate(compilePipeline(PIPELINE, spec, typesFor(spec)), 'unvalidated');
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toContain('is not a valid name in Dagster');
  });

  it('refuses each with a hint, and the spec renamed as the hints say compiles and loads in Dagster', async () => {
    const refused = await t.call('POST', '/v1/pipelines/validate', badSpec());
    expect(refused.body.valid).toBe(false);
    const issues = refused.body.errors as Array<{ code: string; path: string; message: string; hint: string }>;
    const ids = issues.map((i) => /id "([a-z_]+)"/.exec(i.message)![1]);
    expect([...ids].sort()).toEqual([...DAGSTER_ONLY].sort());
    expect(issues.every((i) => i.code === 'invalid_id' && /\/id$/.test(i.path))).toBe(true);

    let fixed = badSpec();
    for (const [i, issue] of issues.entries()) fixed = rename(fixed, ids[i]!, /"([a-z0-9_]+)"/.exec(issue.hint)![1]!);
    const created = await t.call('POST', '/v1/pipelines', fixed);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const compiled = await t.call('POST', `/v1/pipelines/${created.body.id}/compile`);
    expect(compiled.status, JSON.stringify(compiled.body)).toBe(200);
    expect(JSON.parse(compiled.body.files['pipeline.json']).blocks).toHaveProperty('output_table');

    const result = dagsterValidate({ componentName: compiled.body.component_name, files: compiled.body.files, requirements: compiled.body.requirements }, 'renamed');
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});
