import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { deployToDevelopment, launchAndWait, runToEnd, startPlatform, type Platform } from './platform.ts';

/**
 * The flagship's customers, versioned by a `revision` column the source bumps on every change:
 * ReplacingMergeTree keeps the row with the highest revision. The extract selects every column
 * (no `columns`), so a column dropped from the source does not stop it; only the sink needs
 * `revision`. The spec declares what the extract carries, so validation checks the edge at deploy.
 */
function spec(): PipelineSpec {
  const column = (name: string, type: 'integer' | 'string' | 'float' | 'timestamp') => ({ name, type });
  return {
    name: 'Customers by revision',
    blocks: [
      {
        id: 'extract_customers',
        type: 'postgres_incremental_extract@1',
        config: { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' },
        contracts: {
          rows: {
            columns: [
              column('id', 'integer'), column('name', 'string'), column('email', 'string'), column('score', 'float'),
              column('created_at', 'timestamp'), column('updated_at', 'timestamp'), column('revision', 'integer'),
            ],
          },
        },
      },
      {
        id: 'load_customers',
        type: 'clickhouse_replacing_merge_tree_load@1',
        config: { table: 'customers', order_by: ['id'], version_column: 'revision', connection_secret: 'WAREHOUSE_URL' },
      },
    ],
    edges: [{ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'load_customers', port: 'rows' } }],
    // As the flagship's: a failed step is retried, but not one whose input breaks its contract.
    retry_policy: { max_retries: 2, delay_seconds: 1 },
    jobs: [],
    schedules: [],
    sensors: [],
  };
}

/**
 * Issue 17: a source table changed after deploy fails the run-time check, naming the column —
 * on a real PostgreSQL, ClickHouse and Dagster, read back through the service as a user would.
 */
describe('a source column dropped after deploy, on a real Dagster', () => {
  let platform: Platform;
  let t: TestApp;
  let pipelineId: string;
  const warehouse = () => platform.clickhouse.query('SELECT id, name, revision FROM customers ORDER BY id');

  beforeAll(async () => {
    platform = await startPlatform({ customers: 10 });
    await platform.source.query('ALTER TABLE customers ADD COLUMN revision integer NOT NULL DEFAULT 1');
    t = await createTestApp('postgres', { environments: [platform.environment] });
  });
  afterAll(async () => {
    await t?.close();
    await platform?.stop();
  });

  it('deploys (the declared contract satisfies the sink) and loads every customer', async () => {
    const created = await t.call('POST', '/v1/pipelines', spec());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pipelineId = created.body.id;
    const deployed = await deployToDevelopment(t, pipelineId);
    expect(deployed.status, `${JSON.stringify(deployed)}\n${platform.dagster.logs()}`).toBe('deployed');

    await runToEnd(t, platform, pipelineId);
    const rows = await warehouse();
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows.every((r) => Number(r.revision) === 1)).toBe(true);
  });

  it('fails the next run at the sink\'s input, naming the column, the block and its upstream, and writes nothing', async () => {
    const before = await warehouse();
    // The source team drops the column; new and changed rows are waiting, so a sink that went
    // ahead would write them (ClickHouse would fill the missing version with 0).
    await platform.source.query('ALTER TABLE customers DROP COLUMN revision');
    await platform.source.query(`UPDATE customers SET name = name || ' (renamed)', updated_at = timestamp '2026-02-01 00:00:00' WHERE id = 3`);
    await platform.source.query(
      `INSERT INTO customers SELECT i, 'customer ' || i, NULL, NULL, timestamp '2026-02-02 00:00:00', timestamp '2026-02-02 00:00:00' FROM generate_series(11, 12) AS i`,
    );

    const status = await launchAndWait(t, pipelineId);
    expect(status.status, JSON.stringify(status)).toBe('failed');
    expect(status.run).toMatchObject({ dagster_status: 'FAILURE', version: 1 });

    const logs = await t.call('GET', `/v1/pipelines/${pipelineId}/runs/${status.run.run_id}/logs?limit=500`);
    expect(logs.status, JSON.stringify(logs.body)).toBe(200);
    const events = logs.body.events as Array<{ type: string; step: string | null; message: string | null; error: string | null }>;
    // The extract ran: the column it did not need is gone, and it read the new rows.
    expect(events.filter((e) => e.type === 'STEP_SUCCESS').map((e) => e.step)).toEqual([expect.stringContaining('extract_customers')]);
    const failures = events.filter((e) => e.type === 'STEP_FAILURE');
    expect(failures.map((e) => e.step), JSON.stringify(events)).toEqual([expect.stringContaining('load_customers')]);
    expect(events.filter((e) => e.type === 'STEP_UP_FOR_RETRY')).toEqual([]);
    expect(`${failures[0]!.message}\n${failures[0]!.error}`).toContain(
      'load_customers: input rows from extract_customers lacks column "revision" (it has: id, name, email, score, created_at, updated_at)',
    );

    // Failed before the step touched ClickHouse: not a row inserted, not one replaced.
    expect(await warehouse()).toEqual(before);
  });
});
