import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { SourceInspectionService } from '../../src/dagster/source-inspection.ts';
import { startStandIn, type StandIn } from '../support/stand-ins.ts';
import { mcpClient } from '../support/surfaces.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

const ANSWER = {
  ok: true,
  tables: ['public.customers'],
  tables_truncated: false,
  table: 'public.customers',
  columns: [{ name: 'id', type: 'integer', source_type: 'bigint', nullable: false }],
  rows: [[1], [2]],
};
const CONFIG = { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' };

/**
 * Source inspection through REST and MCP against a stand-in that answers as Dagster's GraphQL
 * does and records what it was asked; a real webserver and daemon run the job in
 * test/e2e/source-inspection.test.ts.
 */
describe('source inspection: POST /v1/environments/{env}/inspect-source, inspect_source', () => {
  let t: TestApp;
  let dagster: StandIn;
  let runStatus: string;
  let events: unknown[];
  let locations: Array<{ name: string; loaded: boolean }>;
  const launches = () => dagster.received.map((r) => r.body as { query: string; variables: any }).filter((b) => b.query.includes('launchRun'));

  beforeAll(async () => {
    dagster = await startStandIn((req) => {
      const { query, variables } = req.body as { query: string; variables: any };
      const answer = (data: unknown) => ({ json: { data } });
      if (query.includes('workspaceOrError')) {
        return answer({
          workspaceOrError: {
            __typename: 'Workspace',
            locationEntries: locations.map(({ name, loaded }) => ({
              name,
              loadStatus: 'LOADED',
              locationOrLoadError: loaded ? { __typename: 'RepositoryLocation', name, repositories: [{ name: '__repository__' }] } : { __typename: 'PythonError', message: 'broken', stack: [], errorChain: [] },
            })),
          },
        });
      }
      if (query.includes('launchRun')) return answer({ launchRun: { __typename: 'LaunchRunSuccess', run: { runId: 'insp1', status: 'QUEUED' } } });
      if (query.includes('runOrError')) return answer({ runOrError: { __typename: 'Run', runId: variables.runId, status: runStatus, jobName: 'constellation_inspect_source', startTime: null, endTime: null, updateTime: null, tags: [] } });
      if (query.includes('logsForRun')) return answer({ logsForRun: { __typename: 'EventConnection', cursor: '1', hasMore: false, events } });
      return null;
    });
    t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL'], graphqlUrl: `${dagster.url}/graphql` }), writeOnlyEnvironment('offline', { secrets: ['SOURCE_DB_URL'] })] });
  });
  afterAll(async () => {
    await t?.close();
    await dagster?.close();
  });
  beforeEach(() => {
    dagster.received.length = 0;
    runStatus = 'SUCCESS';
    events = [
      { __typename: 'RunStartEvent' },
      { __typename: 'ExecutionStepOutputEvent', stepKey: 'inspect_source', metadataEntries: [{ label: 'inspection', jsonString: JSON.stringify(ANSWER) }] },
    ];
    // A legacy location and a shard that failed to load are passed over for the first loaded shard.
    locations = [{ name: 'pipeline_0123456789ab', loaded: true }, { name: 'acme_shard_1', loaded: false }, { name: 'beta_shard_2', loaded: true }];
  });

  const inspect = (body: object, env = 'development') => t.call('POST', `/v1/environments/${env}/inspect-source`, body);

  it('launches the inspection job in a loaded shard with the block config as run config, and answers what the job saw', async () => {
    const res = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG, sample_rows: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ ...ANSWER, environment: 'development', block_type: 'postgres_incremental_extract@1', run_id: 'insp1' });
    const [launch] = launches();
    expect(launch!.variables.params.selector).toEqual({ repositoryLocationName: 'beta_shard_2', repositoryName: '__repository__', jobName: 'constellation_inspect_source' });
    expect(launch!.variables.params.runConfigData).toEqual({ ops: { inspect_source: { config: { block_type: 'postgres_incremental_extract@1', config: CONFIG, sample_rows: 3 } } } });
    expect(launch!.variables.params.executionMetadata.tags).toContainEqual({ key: 'constellation/inspection', value: 'postgres_incremental_extract@1' });
  });

  it('answers a failed connection as ok: false with the reason, through the tool as through the route', async () => {
    events = [{ __typename: 'ExecutionStepOutputEvent', metadataEntries: [{ label: 'inspection', jsonString: JSON.stringify({ ok: false, error: 'cannot connect to the Postgres database in SOURCE_DB_URL: Connection refused' }) }] }];
    const mcp = await mcpClient(t);
    try {
      const result = (await mcp.client.callTool({ name: 'inspect_source', arguments: { environment: 'development', block_type: 'postgres_incremental_extract', config: CONFIG, table: 'public.orders' } })) as any;
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ ok: false, error: expect.stringContaining('Connection refused'), run_id: 'insp1' });
      expect(launches()[0]!.variables.params.runConfigData.ops.inspect_source.config.table).toBe('public.orders');
    } finally {
      await mcp.close();
    }
  });

  it('refuses, before launching anything, a secret the environment does not provide, naming it', async () => {
    const res = await inspect({ block_type: 'postgres_incremental_extract', config: { ...CONFIG, connection_secret: 'OTHER_DB_URL' } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'secret_not_allowed', path: '/config/connection_secret', message: expect.stringContaining('OTHER_DB_URL') })]);
    expect(launches()).toEqual([]);
  });

  it('refuses a config its block type does not accept, and a block that is not a source', async () => {
    const bad = await inspect({ block_type: 'postgres_incremental_extract', config: { connection_secret: 'SOURCE_DB_URL' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('/config/table');
    const sink = await inspect({ block_type: 'clickhouse_replacing_merge_tree_load', config: { table: 'customers', order_by: ['id'] } });
    expect(sink.status).toBe(400);
    expect(sink.body.error.issues[0]).toMatchObject({ code: 'not_a_source', path: '/block_type' });
    expect(launches()).toEqual([]);
  });

  it('says so when the environment has no Dagster, or no shard loaded to run the job in', async () => {
    const offline = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG }, 'offline');
    expect(offline.status).toBe(503);
    locations = [{ name: 'acme_shard_1', loaded: false }];
    const none = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG });
    expect(none.status).toBe(409);
    expect(none.body.error).toMatchObject({ code: 'conflict:no_location', hint: expect.stringContaining('deploy any pipeline') });
  });

  it("reports a run that ended without an answer with Dagster's error", async () => {
    runStatus = 'FAILURE';
    events = [{ __typename: 'RunFailureEvent', error: { message: 'Run worker crashed\nmore' } }];
    const res = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG });
    expect(res.status).toBe(502);
    expect(res.body.error.message).toBe('The inspection run insp1 ended FAILURE without an answer: Run worker crashed.');
  });

  it('gives up on a run that does not finish in time, naming it', async () => {
    runStatus = 'QUEUED';
    const service = new SourceInspectionService({ connections: t.services.connections, catalog: t.services.catalog, timeoutMs: 300, pollMs: 50 });
    await expect(service.inspect(LOCAL_PRINCIPAL, 'development', { block_type: 'duckdb_table_read', config: { database_path: '/data/w.duckdb', table: 'orders' } })).rejects.toThrow(
      'The inspection run insp1 did not finish in 0 s (it is QUEUED).',
    );
  });
});
