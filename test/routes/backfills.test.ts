import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startStandIn, type StandIn } from '../support/stand-ins.ts';
import { mcpClient } from '../support/surfaces.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Daily keys from 2024-01-01, 400 of them, as Dagster would list them for a pipeline partitioned
// from that day: the last one is the latest window that has ended.
const KEYS = Array.from({ length: 400 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));
const PARTITIONS = { type: 'daily' as const, start_date: '2024-01-01', timezone: 'UTC' };

/**
 * Backfills through REST and MCP against a stand-in that answers as Dagster's GraphQL does and
 * records what it was asked; a real webserver and daemon run them in test/e2e/backfills.test.ts.
 */
describe('backfills: POST /v1/pipelines/{id}/backfills, GET …/{backfill_id}, backfill_pipeline', () => {
  let t: TestApp;
  let dagster: StandIn;
  const asked: Array<{ query: string; variables: any }> = [];
  let launchAnswer: unknown = { __typename: 'LaunchBackfillSuccess', backfillId: 'bf1' };
  let backfillTags: Array<{ key: string; value: string }> = [];

  beforeAll(async () => {
    dagster = await startStandIn((req) => {
      const { query, variables } = req.body as { query: string; variables: any };
      asked.push({ query, variables });
      const answer = (data: unknown) => ({ json: { data } });
      if (query.includes('pipelineOrError')) return answer({ pipelineOrError: { __typename: 'Pipeline', name: variables.selector.pipelineName, partitionKeysOrError: { partitionKeys: KEYS } } });
      if (query.includes('launchPartitionBackfill')) {
        backfillTags = variables.params.tags;
        return answer({ launchPartitionBackfill: launchAnswer });
      }
      if (query.includes('launchRun')) return answer({ launchRun: { __typename: 'LaunchRunSuccess', run: { runId: 'r9', status: 'QUEUED' } } });
      if (query.includes('runsOrError')) return answer({ runsOrError: { __typename: 'Runs', results: [] } });
      if (query.includes('runOrError')) {
        const tags = asked.findLast((a) => a.query.includes('launchRun'))!.variables.params.executionMetadata.tags;
        return answer({ runOrError: { __typename: 'Run', runId: variables.runId, status: 'QUEUED', jobName: 'x__all_blocks', startTime: null, endTime: null, updateTime: null, tags } });
      }
      if (variables.backfillId !== 'bf1') return answer({ partitionBackfillOrError: { __typename: 'BackfillNotFoundError', message: 'not found' } });
      const launched = asked.findLast((a) => a.query.includes('launchPartitionBackfill'))!.variables.params;
      const statuses = [{ runStatus: 'SUCCESS', runId: 'r1' }, { runStatus: 'STARTED', runId: 'r2' }, { runStatus: null, runId: null }];
      return answer({
        partitionBackfillOrError: {
          __typename: 'PartitionBackfill',
          id: 'bf1',
          status: 'REQUESTED',
          numPartitions: launched.partitionNames.length,
          partitionNames: launched.partitionNames,
          partitionSetName: launched.selector.partitionSetName,
          timestamp: 1_700_000_000,
          endTimestamp: null,
          tags: backfillTags,
          error: null,
          partitionStatuses: { results: launched.partitionNames.map((partitionName: string, i: number) => ({ partitionName, ...statuses[i % 3] })) },
        },
      });
    });
    t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'], graphqlUrl: `${dagster.url}/graphql` })] });
  });
  afterAll(async () => {
    await t?.close();
    await dagster?.close();
  });

  /** A pipeline live in a shard, as a finished deploy leaves it. */
  async function live(name: string, extra: object = { partitions: PARTITIONS }): Promise<string> {
    const created = await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name, ...extra });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await t.db.query(
      `INSERT INTO deployments (id, org_id, pipeline_id, version, environment, status, location_name, requested_by, finished_at)
       VALUES ($1, $2, $3, 1, 'development', 'deployed', 'local_shard_1', $4, now())`,
      [randomUUID(), LOCAL_PRINCIPAL.orgId, id, LOCAL_PRINCIPAL.userId],
    );
    return id;
  }

  let id: string;
  beforeAll(async () => {
    id = await live('Daily customers');
  });

  it('starts a backfill of a range through Dagster\'s job partition set, tagged as runs are, and reports its progress', async () => {
    const res = await t.call('POST', `/v1/pipelines/${id}/backfills`, { from: '2024-01-30', to: '2024-02-01' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const launched = asked.findLast((a) => a.query.includes('launchPartitionBackfill'))!.variables.params;
    expect(launched.selector).toEqual({ partitionSetName: 'daily_customers__all_blocks_partition_set', repositorySelector: { repositoryLocationName: 'local_shard_1', repositoryName: '__repository__' } });
    expect(launched.partitionNames).toEqual(['2024-01-30', '2024-01-31', '2024-02-01']);
    expect(Object.fromEntries(launched.tags.map((x: { key: string; value: string }) => [x.key, x.value]))).toMatchObject({ 'constellation/pipeline_id': id, 'constellation/pipeline_version': '1', 'constellation/environment': 'development' });
    expect(res.body).toMatchObject({
      backfill_id: 'bf1',
      pipeline_id: id,
      environment: 'development',
      job: 'all_blocks',
      version: 1,
      status: 'in_progress',
      dagster_status: 'REQUESTED',
      partitions: { total: 3, succeeded: 1, failed: 0, in_progress: 1, not_started: 1 },
      runs: [
        { run_id: 'r1', partition: '2024-01-30', status: 'completed', dagster_status: 'SUCCESS', url: `${dagster.url}/runs/r1` },
        { run_id: 'r2', partition: '2024-01-31', status: 'running', dagster_status: 'STARTED' },
      ],
      created_at: '2023-11-14T22:13:20.000Z',
      url: `${dagster.url}/runs/b/bf1`,
    });
    const again = await t.call('GET', `/v1/pipelines/${id}/backfills/bf1`);
    expect(again.status).toBe(200);
    expect(again.body.partitions.total).toBe(3);
  });

  it.each([
    [{ from: '2024-02-01', to: '2024-01-30' }, '/from', 'from_after_to', 'comes after to'],
    [{ from: '2023-12-31', to: '2024-01-02' }, '/from', 'unknown_partition', 'before the first partition, "2024-01-01" (start_date 2024-01-01)'],
    [{ from: '2025-01-01', to: '2099-01-01' }, '/to', 'unknown_partition', 'has not ended yet'],
    [{ from: '2024-01-01', to: '2025-01-01' }, '/to', 'too_many_partitions', 'one backfill takes at most 366'],
    [{ partitions: ['2024-01-05', 'Jan 6'] }, '/partitions/1', 'unknown_partition', 'daily keys look like'],
    [{ from: '2024-01-01', partitions: ['2024-01-05'] }, '/from', 'partitions_choice', 'not both'],
    [{ from: '2024-01-01' }, '/to', 'partitions_choice', '"to" is missing'],
    [{}, '/from', 'partitions_choice', '"from" is missing'],
  ])('refuses %j naming %s (%s)', async (body, path, code, words) => {
    const before = asked.filter((a) => a.query.includes('launchPartitionBackfill')).length;
    const res = await t.call('POST', `/v1/pipelines/${id}/backfills`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('invalid:partitions');
    expect(res.body.error.issues[0]).toMatchObject({ path, code });
    const { message, hint, issues } = res.body.error;
    expect([message, hint, ...issues.map((i: { message: string }) => i.message)].join(' ')).toContain(words);
    expect(asked.filter((a) => a.query.includes('launchPartitionBackfill')).length).toBe(before);
  });

  it('refuses a pipeline without partitions, one not deployed, and a job it does not have', async () => {
    const plain = await live('Not partitioned', {});
    const unpartitioned = await t.call('POST', `/v1/pipelines/${plain}/backfills`, { from: '2024-01-01', to: '2024-01-02' });
    expect(unpartitioned.status).toBe(409);
    expect(unpartitioned.body.error).toMatchObject({ code: 'conflict:not_partitioned' });
    const created = await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name: 'Never deployed', partitions: PARTITIONS });
    const undeployed = await t.call('POST', `/v1/pipelines/${created.body.id}/backfills`, { from: '2024-01-01', to: '2024-01-02' });
    expect(undeployed.status).toBe(409);
    expect(undeployed.body.error.code).toBe('conflict:not_deployed');
    const job = await t.call('POST', `/v1/pipelines/${id}/backfills`, { job: 'nightly', from: '2024-01-01', to: '2024-01-02' });
    expect(job.status).toBe(400);
    expect(job.body.error).toMatchObject({ code: 'invalid:job', issues: [{ path: '/job' }] });
  });

  it("answers 404 for another pipeline's backfill or an unknown id, and 502 with Dagster's words when it refuses", async () => {
    const other = await live('Other pipeline');
    expect((await t.call('GET', `/v1/pipelines/${other}/backfills/bf1`)).body.error.code).toBe('not_found:backfill');
    expect((await t.call('GET', `/v1/pipelines/${id}/backfills/nope`)).status).toBe(404);
    launchAnswer = { __typename: 'PartitionSetNotFoundError', message: 'Partition set x_partition_set could not be found.' };
    const refused = await t.call('POST', `/v1/pipelines/${id}/backfills`, { partitions: ['2024-01-05'] });
    launchAnswer = { __typename: 'LaunchBackfillSuccess', backfillId: 'bf1' };
    expect(refused.status).toBe(502);
    expect(refused.body.error.message).toContain('could not be found');
  });

  it('runs one partition again: POST …/runs with partition tags it, and a key that is not one is refused', async () => {
    const run = await t.call('POST', `/v1/pipelines/${id}/runs`, { partition: '2024-01-31' });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect(run.body.tags['dagster/partition']).toBe('2024-01-31');
    const bad = await t.call('POST', `/v1/pipelines/${id}/runs`, { partition: '2024-13-01' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0]).toMatchObject({ path: '/partition', code: 'unknown_partition' });
  });

  it('backfill_pipeline and pipeline_status with backfill_id do the same over MCP', async () => {
    const { client, close } = await mcpClient(t);
    try {
      const started: any = await client.callTool({ name: 'backfill_pipeline', arguments: { pipeline_id: id, partitions: ['2024-01-05'] } });
      expect(started.isError, JSON.stringify(started)).toBeFalsy();
      expect(started.structuredContent).toMatchObject({ backfill_id: 'bf1', partitions: { total: 1 } });
      const status: any = await client.callTool({ name: 'pipeline_status', arguments: { pipeline_id: id, backfill_id: 'bf1' } });
      expect(status.structuredContent).toMatchObject({ status: 'completed', backfill: { backfill_id: 'bf1', partitions: { succeeded: 1 } } });
      const wrong: any = await client.callTool({ name: 'backfill_pipeline', arguments: { pipeline_id: id, from: '2024-01-02', to: '2024-01-01' } });
      expect(wrong.isError).toBe(true);
      expect(wrong.content[0].text).toContain('Error invalid:partitions');
    } finally {
      await close();
    }
  });
});
