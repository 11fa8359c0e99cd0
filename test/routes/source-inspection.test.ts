import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
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
  /** What Dagster lists (`error`: the location did not load), and what it lists once asked to reload. */
  let locations: Array<{ name: string; error?: string }>;
  let afterReload: typeof locations;
  const launches = () => dagster.received.map((r) => r.body as { query: string; variables: any }).filter((b) => b.query.includes('launchRun'));

  beforeAll(async () => {
    dagster = await startStandIn((req) => {
      const { query, variables } = req.body as { query: string; variables: any };
      const answer = (data: unknown) => ({ json: { data } });
      const entry = ({ name, error }: { name: string; error?: string }) => ({
        __typename: 'WorkspaceLocationEntry',
        name,
        loadStatus: 'LOADED',
        locationOrLoadError: error ? { __typename: 'PythonError', message: error, stack: [], errorChain: [] } : { __typename: 'RepositoryLocation', name, repositories: [{ name: '__repository__' }] },
      });
      if (query.includes('workspaceOrError')) return answer({ workspaceOrError: { __typename: 'Workspace', locationEntries: locations.map(entry) } });
      if (query.includes('reloadWorkspace')) {
        locations = afterReload;
        return answer({ reloadWorkspace: { __typename: 'Workspace', locationEntries: locations.map(entry) } });
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
    // Shards load beside it, and sort before it: the job runs in the system location only.
    locations = [{ name: 'acme_shard_1' }, { name: 'constellation_system' }];
    afterReload = locations;
  });

  const inspect = (body: object, env = 'development') => t.call('POST', `/v1/environments/${env}/inspect-source`, body);

  it('launches the inspection job in the system location with the block config as run config, and answers what the job saw', async () => {
    const res = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG, sample_rows: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ ...ANSWER, environment: 'development', block_type: 'postgres_incremental_extract@1', run_id: 'insp1' });
    const [launch] = launches();
    expect(launch!.variables.params.selector).toEqual({ repositoryLocationName: 'constellation_system', repositoryName: '__repository__', jobName: 'constellation_inspect_source' });
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

  it('says so when the environment has no Dagster', async () => {
    const offline = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG }, 'offline');
    expect(offline.status).toBe(503);
    expect(offline.body.error.code).toBe('unavailable:dagster');
  });

  it('loads the system location first when Dagster has none: adds it to a workspace.yaml written before it, reloads, then launches there', async () => {
    const yaml = join(t.services.connections.require('development').workspace.dir, 'workspace.yaml');
    writeFileSync(yaml, 'load_from: []\n');
    locations = [];
    afterReload = [{ name: 'constellation_system' }];
    const res = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(parseYaml(readFileSync(yaml, 'utf8')).load_from.map((e: any) => e.python_module?.module_name)).toEqual(['constellation_blocks.system_location']);
    const asked = dagster.received.map((r) => (r.body as { query: string }).query);
    expect(asked.findIndex((q) => q.includes('reloadWorkspace'))).toBeLessThan(asked.findIndex((q) => q.includes('launchRun')));
    expect(launches()[0]!.variables.params.selector.repositoryLocationName).toBe('constellation_system');
  });

  it("refuses with Dagster's own message when the system location does not load, launching nothing", async () => {
    locations = [];
    afterReload = [{ name: 'constellation_system', error: "ModuleNotFoundError: No module named 'constellation_blocks.system_location'" }];
    const res = await inspect({ block_type: 'postgres_incremental_extract', config: CONFIG });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'upstream:system_location', hint: expect.stringContaining('constellation_blocks is installed') });
    expect(res.body.error.message).toContain("No module named 'constellation_blocks.system_location'");
    expect(launches()).toEqual([]);
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
    const service = new SourceInspectionService({ connections: t.services.connections, catalog: t.services.catalog, locks: t.services.locks, timeoutMs: 300, pollMs: 50 });
    await expect(service.inspect(LOCAL_PRINCIPAL, 'development', { block_type: 'duckdb_table_read', config: { database_path: '/data/w.duckdb', table: 'orders' } })).rejects.toThrow(
      'The inspection run insp1 did not finish in 0 s (it is QUEUED).',
    );
  });
});
