import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import type { DagsterServer } from '../support/dagster-server.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { createDatabase, deployToDevelopment, e2eFolder, startDagsterFor, until } from './platform.ts';

/**
 * Issue 14's daily partitions and backfills in a real Dagster webserver and daemon: a daily
 * partitioned pipeline (a Postgres extract) is deployed, three days are backfilled through REST
 * (Dagster's daemon submits a run per partition), the backfill is followed until every run ended,
 * then one day is run again. A partition whose window has not ended is refused before Dagster is
 * asked to run anything.
 */
describe('backfills of a daily partitioned pipeline in a real Dagster', () => {
  let dagster: DagsterServer;
  let t: TestApp;
  let pipelineId: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const folder = e2eFolder('constellation-e2e-backfills-');
    cleanups.push(folder.remove);
    const sourceUrl = await createDatabase('backfills');
    const source = new pg.Client({ connectionString: sourceUrl });
    await source.connect();
    await source.query(`CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamp NOT NULL, updated_at timestamp NOT NULL)`);
    await source.query(`INSERT INTO orders VALUES (1, '2026-01-01', '2026-01-01'), (2, '2026-01-02', '2026-01-02')`);
    await source.end();

    const started = await startDagsterFor(folder.dir, { SOURCE_DB_URL: sourceUrl });
    dagster = started.dagster;
    cleanups.push(() => dagster.stop());
    t = await createTestApp('pglite', { environments: [started.environment] });
    cleanups.push(() => t.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  const spec: PipelineSpec = {
    name: 'daily orders',
    blocks: [{ id: 'extract_orders', type: 'postgres_incremental_extract@1', config: { table: 'public.orders', connection_secret: 'SOURCE_DB_URL' } }],
    edges: [],
    jobs: [],
    schedules: [],
    sensors: [],
    partitions: { type: 'daily', start_date: '2026-01-01', timezone: 'UTC' },
  };

  it('backfills three days, reports each run by partition, and re-runs one day', async () => {
    const created = await t.call('POST', '/v1/pipelines', spec);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pipelineId = created.body.id;
    const deployed = await deployToDevelopment(t, pipelineId);
    expect(deployed.status, `${JSON.stringify(deployed)}\n${dagster.logs()}`).toBe('deployed');
    // The daemon submits a backfill's runs from its own view of the workspace, which takes in a
    // new location only about once a minute: a fresh daemon reads it at once.
    await dagster.restartDaemon();

    // Tomorrow's window has not ended: refused, naming the field, before anything runs.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const future = await t.call('POST', `/v1/pipelines/${pipelineId}/backfills`, { from: '2026-01-01', to: tomorrow });
    expect(future.status, JSON.stringify(future.body)).toBe(400);
    expect(future.body.error.issues).toMatchObject([{ path: '/to', code: 'unknown_partition' }]);
    expect(future.body.error.message).toContain('has not ended yet');

    const started = await t.call('POST', `/v1/pipelines/${pipelineId}/backfills`, { environment: 'development', from: '2026-01-01', to: '2026-01-03' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ pipeline_id: pipelineId, job: 'all_blocks', version: 1, partitions: { total: 3 } });
    expect(started.body.url).toBe(`${dagster.baseUrl}/runs/b/${started.body.backfill_id}`);

    const done = await until(
      async () => (await t.call('GET', `/v1/pipelines/${pipelineId}/backfills/${started.body.backfill_id}`)).body,
      (b) => ['completed', 'failed', 'canceled'].includes(b.status),
      150_000,
      1_000,
    );
    expect(done.status, `${JSON.stringify(done)}\n${dagster.logs()}`).toBe('completed');
    expect(done.partitions).toEqual({ total: 3, succeeded: 3, failed: 0, in_progress: 0, not_started: 0 });
    expect(done.runs.map((r: { partition: string }) => r.partition).sort()).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
    for (const run of done.runs) expect(run).toMatchObject({ status: 'completed', dagster_status: 'SUCCESS' });
    // Each run is one of the pipeline's, tagged as such, with its partition.
    const first = await t.call('GET', `/v1/pipelines/${pipelineId}/runs/${done.runs[0].run_id}`);
    expect(first.body.tags).toMatchObject({ 'dagster/partition': done.runs[0].partition, 'dagster/backfill': started.body.backfill_id, 'constellation/pipeline_id': pipelineId });

    // Re-running one day: a run of that partition, launched at once by the webserver.
    const rerun = await t.call('POST', `/v1/pipelines/${pipelineId}/runs`, { partition: '2026-01-02' });
    expect(rerun.status, JSON.stringify(rerun.body)).toBe(201);
    const ended = await until(async () => (await t.call('GET', `/v1/pipelines/${pipelineId}/runs/${rerun.body.run_id}`)).body, (r) => r.status !== 'running', 90_000);
    expect(ended.status, `${JSON.stringify(ended)}\n${dagster.logs()}`).toBe('completed');
    expect(ended.tags['dagster/partition']).toBe('2026-01-02');
  });
});
