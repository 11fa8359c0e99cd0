import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DBT_LAKE_PROJECT, seed002Spec, type Seed002Places } from '../compile/seed-002.ts';
import { VENV_BIN, type DagsterServer } from '../support/dagster-server.ts';
import { startMoto, type MotoServer } from '../support/moto-server.ts';
import { mcpClient, mcpToolResult } from '../support/surfaces.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { deployToDevelopment, e2eFolder, startDagsterFor, until } from './platform.ts';

const HEADER = 'event_id,user_id,kind,amount,event_time,event_date';
/** Three days of events as they land in the bucket: purchases, a refund and a page view (dbt keeps only purchases). */
const DAYS: Record<string, string[]> = {
  '2024-01-01': ['1,1,purchase,10.0,2024-01-01T09:00:00,2024-01-01', '2,2,purchase,5.0,2024-01-01T10:00:00,2024-01-01', '3,1,refund,-10.0,2024-01-01T11:00:00,2024-01-01'],
  '2024-01-02': ['4,1,purchase,20.0,2024-01-02T09:00:00,2024-01-02', '5,2,view,0,2024-01-02T12:00:00,2024-01-02'],
  '2024-01-03': ['6,2,purchase,7.5,2024-01-03T08:00:00,2024-01-03', '7,1,purchase,2.5,2024-01-03T20:00:00,2024-01-03'],
};
/** Features as of the end of 2024-01-03 (7-day windows hold every purchase): computed by hand from DAYS. */
const FEATURES_ON_JAN_3 = [
  { user_id: 1, purchases_7d: 3, spend_7d: 32.5, last_amount: 2.5 },
  { user_id: 2, purchases_7d: 2, spend_7d: 12.5, last_amount: 7.5 },
];
const KEYS = { AWS_ACCESS_KEY_ID: 'lake-key', AWS_SECRET_ACCESS_KEY: 'lake-secret' };

type Row = Record<string, unknown>;

/**
 * Issue 14 end to end: seed 002's lake on daily partitions — the day's CSV files in an
 * S3-compatible store (moto) → a table → the raw Iceberg table (pyiceberg, a SQLite catalog, the
 * warehouse in the store) → dbt over the lake (dbt-duckdb's iceberg plugin) → the purchases model
 * read back → user features → a feature table in Iceberg. Created through the REST API and again
 * through the MCP tools, deployed into a real Dagster webserver and daemon; three days backfilled
 * through REST, then one day re-run by the MCP pipeline: the raw table is unchanged, and the
 * feature table holds that day's features.
 */
describe('seed 002: S3 files, Iceberg, dbt over the lake and features, on daily partitions in a real Dagster', () => {
  let places: Seed002Places;
  let moto: MotoServer;
  let dagster: DagsterServer;
  let t: TestApp;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const folder = e2eFolder('constellation-e2e-seed002-');
    cleanups.push(folder.remove);
    // dbt writes its run artifacts into the project folder: a copy, not the repository's fixture.
    cpSync(DBT_LAKE_PROJECT, join(folder.dir, 'dbt_lake'), { recursive: true });
    moto = await startMoto();
    cleanups.push(() => moto.stop());
    await moto.createBucket('landing');
    await moto.createBucket('lake');
    for (const [day, rows] of Object.entries(DAYS)) await moto.put('landing', `events/dt=${day}/part-0.csv`, [HEADER, ...rows].join('\n') + '\n');
    places = {
      s3Endpoint: moto.url,
      landingBucket: 'landing',
      catalogUri: `sqlite:///${join(folder.dir, 'catalog.db')}`,
      warehouse: 's3://lake/warehouse',
      dbtProject: join(folder.dir, 'dbt_lake'),
      dbtDuckdb: join(folder.dir, 'silver.duckdb'),
    };
    // The secrets live where the code runs; the dbt project's profile reads the lake's places from the environment too.
    const started = await startDagsterFor(folder.dir, KEYS, {
      LAKE_DUCKDB_PATH: places.dbtDuckdb,
      LAKE_CATALOG_URI: places.catalogUri,
      LAKE_S3_ENDPOINT: moto.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    dagster = started.dagster;
    cleanups.push(() => dagster.stop());
    t = await createTestApp('pglite', { environments: [started.environment] });
    cleanups.push(() => t.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  /** An Iceberg table's rows, sorted by `orderBy`, read with pyiceberg from the catalog the blocks write. */
  const iceberg = (table: string, orderBy: string): Row[] => {
    const script = [
      'import json, sys',
      'from pyiceberg.catalog import load_catalog',
      'uri, endpoint, table, order = sys.argv[1:5]',
      'props = {"type": "sql", "uri": uri, "s3.endpoint": endpoint, "s3.region": "us-east-1", "s3.access-key-id": "x", "s3.secret-access-key": "x", "s3.force-virtual-addressing": "false"}',
      'rows = load_catalog("default", **props).load_table(table).scan().to_arrow().to_pylist()',
      'print(json.dumps(sorted(rows, key=lambda r: r[order]), default=str))',
    ].join('\n');
    const done = spawnSync(join(VENV_BIN, 'python'), ['-c', script, places.catalogUri, moto.url, table, orderBy], { encoding: 'utf8', env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
    expect(done.status, done.stderr).toBe(0);
    return JSON.parse(done.stdout);
  };

  let restId: string;
  let mcpId: string;
  let mcp: Awaited<ReturnType<typeof mcpClient>>;
  const tool = (name: string, args: Record<string, unknown>) => mcpToolResult(mcp.client, name, args);

  // Both pipelines are deployed before anything runs: they share the org's shard, so one daemon
  // restart (it reads a new location only about once a minute) serves both.
  it('is created, compiled and deployed through the REST API', async () => {
    const created = await t.call('POST', '/v1/pipelines', seed002Spec(places, 'Event lake'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    restId = created.body.id;
    const compiled = await t.call('POST', `/v1/pipelines/${restId}/compile`);
    expect(compiled.status, JSON.stringify(compiled.body)).toBe(200);
    const deployed = await deployToDevelopment(t, restId);
    expect(deployed.status, `${JSON.stringify(deployed)}\n${dagster.logs()}`).toBe('deployed');
  });

  it('is proposed, compiled and deployed again through the MCP tools', async () => {
    mcp = await mcpClient(t);
    cleanups.push(() => mcp.close());
    const proposed = await tool('propose_pipeline', { spec: seed002Spec(places, 'Event lake from MCP') });
    mcpId = proposed.pipeline_id;
    await tool('compile_pipeline', { pipeline_id: mcpId });
    const deployed = await tool('deploy_pipeline', { pipeline_id: mcpId, environment: 'development', dry_run: false, wait: true });
    expect(deployed.status, `${JSON.stringify(deployed)}\n${dagster.logs()}`).toBe('deployed');
    await dagster.restartDaemon();
  });

  it('backfills three days through REST: three runs, one per partition, every day in the raw Iceberg table and in dbt\'s model', async () => {
    const started = await t.call('POST', `/v1/pipelines/${restId}/backfills`, { environment: 'development', from: '2024-01-01', to: '2024-01-03' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const done = await until(
      async () => (await t.call('GET', `/v1/pipelines/${restId}/backfills/${started.body.backfill_id}`)).body,
      (b) => ['completed', 'failed', 'canceled'].includes(b.status),
      400_000,
      2_000,
    );
    expect(done.status, `${JSON.stringify(done)}\n${dagster.logs()}`).toBe('completed');
    expect(done.partitions).toEqual({ total: 3, succeeded: 3, failed: 0, in_progress: 0, not_started: 0 });
    expect(done.runs.map((r: { partition: string }) => r.partition).sort()).toEqual(Object.keys(DAYS));
    const raw = iceberg('raw.events', 'event_id');
    expect(raw.map((r) => r.event_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(raw[3]).toMatchObject({ user_id: 1, kind: 'purchase', amount: 20, event_date: '2024-01-02' });
  });

  let afterBackfill: Row[];
  it('re-runs one day through the MCP tools (launch_run, pipeline_status): the raw table unchanged, that day\'s features in Iceberg', async () => {
    afterBackfill = iceberg('raw.events', 'event_id');
    const run = await tool('launch_run', { pipeline_id: mcpId, partition: '2024-01-03' });
    const status = await until(async () => tool('pipeline_status', { pipeline_id: mcpId, run_id: run.run_id }), (s) => s.status !== 'running', 240_000, 1_000);
    expect(status.status, `${JSON.stringify(status)}\n${dagster.logs()}`).toBe('completed');
    // The day's rows were replaced by the same rows: a re-run changes nothing.
    expect(iceberg('raw.events', 'event_id')).toEqual(afterBackfill);
    // Features as of the day's end, over every purchase the lake holds by then.
    expect(iceberg('ml.user_features', 'user_id')).toEqual(FEATURES_ON_JAN_3);
  });
});
