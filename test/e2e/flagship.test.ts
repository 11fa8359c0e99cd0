import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_STATE } from '../../src/adapters/dagster/documents.ts';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { withSecretNamed } from '../support/broken-component.ts';
import { VENV_BIN } from '../support/dagster-server.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { runToEnd as runPipeline, startPlatform, until, type Platform } from './platform.ts';

const EXTRACT_METADATA = `query ExtractMetadata($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset { assetMaterializations(limit: 1) { runId metadataEntries { label ... on IntMetadataEntry { intValue } } } }
  }
}`;

/**
 * Seed 003 end to end: customers from a real PostgreSQL into a real ClickHouse, through the REST
 * API, a real Dagster webserver and daemon, every 6 hours; then incremental changes; then a
 * version that fails to load, rolled back.
 */
describe('Postgres → ClickHouse, incremental, on a real Dagster', () => {
  let platform: Platform;
  let t: TestApp;
  let gql: DagsterGraphqlClient;
  let pipelineId: string;

  beforeAll(async () => {
    platform = await startPlatform({ customers: 10 });
    t = await createTestApp('postgres', {
      environments: [platform.environment],
      // Version 2 is made to fail to load in Dagster, as a broken block would.
      alterCompiled: (compiled, deployment) => (deployment.version === 2 ? withSecretNamed(compiled, 'version 2 is broken on purpose') : compiled),
    });
    gql = new DagsterGraphqlClient(platform.dagster.graphqlUrl);
  });
  afterAll(async () => {
    await t?.close();
    await platform?.stop();
  });

  const deployment = async (version: number) =>
    until(
      async () => (await t.call('GET', `/v1/pipelines/${pipelineId}/deployments`)).body.deployments.find((d: any) => d.version === version),
      (d) => d && ['deployed', 'written', 'failed'].includes(d.status),
    );

  const runToEnd = () => runPipeline(t, platform, pipelineId);

  /** The pipeline's pipeline.json as compiled: the Dagster names and asset keys it has in its shard. */
  const compiled = async () => JSON.parse((await t.services.compiler.compile(LOCAL_PRINCIPAL, pipelineId)).files['pipeline.json']!);

  const extractCounts = async () => {
    const data = await gql.request(EXTRACT_METADATA, { path: [...(await compiled()).namespace.asset_key_prefix, 'extract_customers'] });
    const entries = data.assetOrError.assetMaterializations[0].metadataEntries as Array<{ label: string; intValue?: number }>;
    return Object.fromEntries(entries.filter((e) => e.intValue !== undefined).map((e) => [e.label, e.intValue]));
  };

  it('creates the pipeline from blocks through the seed API and deploys it', async () => {
    const block = async (name: string, block_type: string, config: object) => (await t.call('POST', '/v1/blocks', { name, block_type, config })).body.id as string;
    const extract = await block('Extract customers', 'postgres_incremental_extract', { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' });
    const load = await block('Load customers', 'clickhouse_replacing_merge_tree_load', { table: 'customers', order_by: ['id'], connection_secret: 'WAREHOUSE_URL' });
    expect((await t.call('POST', '/v1/edges', { source_block_id: extract, source_port: 'rows', target_block_id: load, target_port: 'rows' })).status).toBe(201);
    const created = await t.call('POST', '/dagster/pipelines/', {
      pipeline_name: 'customers to clickhouse',
      block_ids: [extract, load],
      configuration: { schedule: '0 */6 * * *', retry_policy: { max_retries: 2, delay_seconds: 1 } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pipelineId = created.body.pipeline_id;

    const deploy = await t.call('POST', `/dagster/pipelines/${pipelineId}/deploy/`, { environment: 'development' });
    expect(deploy.body).toEqual({ pipeline_id: pipelineId, message: 'Pipeline deployment initiated.', deployment_status: 'in_progress' });
    const done = await deployment(1);
    expect(done.status, `${JSON.stringify(done)}\n${platform.dagster.logs()}`).toBe('deployed');
  });

  it('runs the schedule in Dagster: RUNNING, every 6 hours, seen over GraphQL', async () => {
    const location = (await t.call('GET', `/v1/pipelines/${pipelineId}/deployments`)).body.deployments[0].location_name;
    const scheduleName = (await compiled()).schedules.schedule.name;
    const data = await gql.request(SCHEDULE_STATE, { selector: { repositoryLocationName: location, repositoryName: '__repository__', scheduleName } });
    expect(data.scheduleOrError).toMatchObject({ __typename: 'Schedule', cronSchedule: '0 */6 * * *', executionTimezone: 'UTC', scheduleState: { status: 'RUNNING' } });
  });

  it('writes a location that `dagster definitions validate` accepts', () => {
    const result = spawnSync(join(VENV_BIN, 'dagster'), ['definitions', 'validate', '-w', join(platform.environment.workspaceDir, 'workspace.yaml')], {
      env: { ...process.env, DAGSTER_HOME: platform.dagster.home },
      encoding: 'utf8',
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it('loads every customer on the first run', async () => {
    const status = await runToEnd();
    expect(status.run).toMatchObject({ dagster_status: 'SUCCESS', version: 1, url: expect.stringContaining('/runs/') });
    expect(await extractCounts()).toMatchObject({ total_rows: 10, new_rows: 10 });
    const rows = await platform.clickhouse.query('SELECT id, name, email FROM customers FINAL ORDER BY id');
    expect(rows).toHaveLength(10);
    expect(rows[2]).toEqual({ id: '3', name: 'customer 3', email: 'c3@example.com' });
  });

  it('loads only new and changed rows on the next run, without duplicate keys', async () => {
    // Row 10 holds the watermark (the boundary is re-read by design), so updating it and row 4
    // and inserting three rows reads exactly those five.
    await platform.source.query(`UPDATE customers SET name = name || ' (renamed)', updated_at = timestamp '2026-02-01 00:00:00' WHERE id IN (4, 10)`);
    await platform.source.query(
      `INSERT INTO customers SELECT i, 'customer ' || i, NULL, NULL, timestamp '2026-02-02 00:00:00' + i * interval '1 minute', timestamp '2026-02-02 00:00:00' + i * interval '1 minute'
       FROM generate_series(11, 13) AS i`,
    );
    await runToEnd();
    const counts = await extractCounts();
    expect(counts.total_rows).toBe(5);
    // Row 10 was created exactly at the watermark, so it may count as new or changed; 11-13 are new.
    expect(counts.new_rows! + counts.changed_rows!).toBe(5);
    expect(counts.new_rows).toBeGreaterThanOrEqual(3);
    const rows = await platform.clickhouse.query('SELECT id, name FROM customers FINAL ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(rows.filter((r) => String(r.name).endsWith('(renamed)')).map((r) => Number(r.id))).toEqual([4, 10]);
    expect(await platform.clickhouse.query('SELECT id FROM customers FINAL GROUP BY id HAVING count() > 1')).toEqual([]);
  });

  it('passes the rows between its steps as Parquet in the table storage, with nothing pickled under DAGSTER_HOME', () => {
    const filesUnder = (dir: string) =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
    const extracts = filesUnder(platform.dagster.tableStorage).filter((f) => f.endsWith('/extract_customers.parquet'));
    expect(extracts).toHaveLength(1);
    expect(readFileSync(extracts[0]!).subarray(0, 4).toString()).toBe('PAR1');
    // A pickle (protocol 2 and up) starts with 0x80; Dagster's default IO manager would leave one per step output.
    const pickles = filesUnder(platform.dagster.home).filter((f) => readFileSync(f).subarray(0, 1)[0] === 0x80);
    expect(pickles).toEqual([]);
  });

  it('keeps the previous version when a new one fails to load, reporting Dagster\'s error', async () => {
    const locationDir = join(platform.environment.workspaceDir, 'locations', readdirSync(join(platform.environment.workspaceDir, 'locations'))[0]!);
    const snapshot = () =>
      Object.fromEntries(
        readdirSync(locationDir, { recursive: true, encoding: 'utf8' })
          .filter((f) => statSync(join(locationDir, f)).isFile())
          .sort()
          .map((f) => [f, readFileSync(join(locationDir, f), 'utf8')]),
      );
    const before = { files: snapshot(), workspace: readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8') };

    const edit = await t.call('PATCH', `/v1/pipelines/${pipelineId}`, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 500 }]);
    expect(edit.body.version, JSON.stringify(edit.body)).toBe(2);
    expect((await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' })).status).toBe(202);
    const failed = await deployment(2);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('version 2 is broken on purpose');
    expect(snapshot()).toEqual(before.files);
    expect(readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8')).toBe(before.workspace);

    const status = await runToEnd();
    expect(status.run.version).toBe(1);
    expect(status.deployment).toMatchObject({ version: 2, status: 'failed' });
  });

  it('reads a run\'s event log through the API', async () => {
    const runs = (await t.call('GET', `/v1/pipelines/${pipelineId}/runs`)).body.runs;
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const logs = await t.call('GET', `/v1/pipelines/${pipelineId}/runs/${runs[0].run_id}/logs?limit=500`);
    expect(logs.status).toBe(200);
    expect(logs.body.events.map((e: any) => e.type)).toContain('RUN_SUCCESS');
  });

  it('asks Dagster to terminate a run, and reports Dagster refusing for one already finished', async () => {
    const runs = (await t.call('GET', `/v1/pipelines/${pipelineId}/runs`)).body.runs;
    const res = await t.call('POST', `/v1/pipelines/${pipelineId}/runs/${runs[0].run_id}/terminate`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict:run');
    const other = await t.call('GET', `/v1/pipelines/${pipelineId}/runs/00000000-0000-0000-0000-000000000000`);
    expect(other.status).toBe(404);
  });

  it('rolls back to an earlier version in one call', async () => {
    const rollback = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development', version: 1 });
    expect(rollback.status).toBe(202);
    expect((await until(async () => (await t.call('GET', `/v1/deployments/${rollback.body.id}`)).body, (d) => d.status !== 'pending' && d.status !== 'in_progress')).status).toBe('deployed');
  });

  it('removes the code location from the workspace when the pipeline is deleted', async () => {
    const location = (await t.call('GET', `/v1/pipelines/${pipelineId}/deployments`)).body.deployments[0].location_name;
    expect((await t.call('DELETE', `/dagster/pipelines/${pipelineId}/`)).status).toBe(200);
    expect(readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8')).not.toContain(location);
    const entries = await gql.request('{ workspaceOrError { ... on Workspace { locationEntries { name } } } }');
    expect(entries.workspaceOrError.locationEntries.map((e: { name: string }) => e.name)).not.toContain(location);
  });
});
