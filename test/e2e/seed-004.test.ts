import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { DBT_FIXTURE_PROJECT, seed004Spec, type Seed004Places } from '../compile/seed-004.ts';
import { VENV_BIN, type DagsterServer } from '../support/dagster-server.ts';
import { startAirbyte, startDataHubGms, startGitHubReleases, startJsonApi, type StandIn } from '../support/stand-ins.ts';
import { mcpClient, mcpToolResult } from '../support/surfaces.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { deployToDevelopment, e2eFolder, startDagsterFor, until } from './platform.ts';

const ASSET_NODES = `query AssetNodes { assetNodes { assetKey { path } dependencyKeys { path } } }`;
const SENSOR_TICKS = `query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { __typename ... on Sensor { sensorState { ticks(limit: 20) { status runIds } } } ... on Error { message } }
}`;
const RUNS = `query Runs($filter: RunsFilter!) { runsOrError(filter: $filter) { __typename ... on Runs { results { runId status tags { key value } } } } }`;
const CHECK_EXECUTIONS = `query Checks($key: AssetKeyInput!, $name: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $name, limit: 5) { runId status evaluation { severity } }
}`;

// The tracker's API: one issue without a title, the "bad data" the Great Expectations check catches.
const ISSUES = [
  { id: 1, title: 'Login fails on Safari', state: 'open', user_id: 1 },
  { id: 2, title: null, state: 'open', user_id: 2 },
  { id: 3, title: 'Export is slow', state: 'closed', user_id: 1 },
];
const USERS = [
  { id: 1, login: 'ada' },
  { id: 2, login: 'grace' },
];
// The secrets live where the code runs; the dbt project's profile reads its DuckDB file from the environment too.
// Only what a DuckDB stack uses: no Postgres URL for Great Expectations or dlt (manifest needed_when).
const SECRETS = { DATAHUB_GMS_TOKEN: 'e2e-datahub', AIRBYTE_API_TOKEN: 'e2e-airbyte', GITHUB_TOKEN: 'e2e-github' };

type Tags = Record<string, string>;
type Deployed = { id: string; compiled: Compiled; location: string };
/** What the tests read of a compiled pipeline.json: its asset key prefix and its sensors' Dagster names. */
type Compiled = { namespace: { asset_key_prefix: string[] }; sensors: Record<string, { name: string }> };
const tagsOf = (run: { tags: Array<{ key: string; value: string }> }): Tags => Object.fromEntries(run.tags.map((t) => [t.key, t.value]));

/**
 * Issue 13 end to end: seed 004's stack (dlt and Airbyte → dbt run → dbt test and Great
 * Expectations → DataHub; daily at 02:00 and every 6 hours; three sensors; six jobs) created
 * through the REST API and again through the MCP tools, compiled, deployed into a real Dagster
 * webserver and daemon, and materialized into DuckDB. Airbyte, DataHub and GitHub are local
 * stand-ins of their APIs; dlt, dbt, DuckDB and Great Expectations are the real engines. The
 * tracker's data holds an issue without a title: the Great Expectations check fails (as a warning,
 * so the run goes on to DataHub), and the data-quality sensor answers with exactly one emergency
 * refresh, which skips checks and so cannot start another. The MCP pipeline's triggers are paused
 * before its run (set_trigger_state), so its run is the warehouse's only writer.
 */
describe('seed 004: dlt, Airbyte, dbt, Great Expectations and DataHub in a real Dagster', () => {
  let dir: string;
  let places: Seed004Places;
  let dagster: DagsterServer;
  let gql: DagsterGraphqlClient;
  let t: TestApp;
  let gms: Awaited<ReturnType<typeof startDataHubGms>>;
  let airbyte: Awaited<ReturnType<typeof startAirbyte>>;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const folder = e2eFolder('constellation-e2e-seed004-', ['inbox', 'alerts']);
    dir = folder.dir;
    cleanups.push(folder.remove);
    // dbt writes its run artifacts into the project folder: a copy, not the repository's fixture.
    cpSync(DBT_FIXTURE_PROJECT, join(dir, 'dbt_project'), { recursive: true });

    const tracker: StandIn = await startJsonApi({ issues: ISSUES, users: USERS });
    cleanups.push(() => tracker.close());
    const connectionId = '7d2c9a4e-5b1f-4c3a-9e8d-0f6b2a1c3d4e';
    airbyte = await startAirbyte(connectionId, ['running', 'succeeded'], ['payments']);
    cleanups.push(() => airbyte.close());
    gms = await startDataHubGms();
    cleanups.push(() => gms.close());
    const github = await startGitHubReleases([{ id: 1, tag_name: 'v1.0.0' }]);
    cleanups.push(() => github.close());

    const airbyteUrl = new URL(airbyte.url);
    places = {
      warehouse: join(dir, 'warehouse.duckdb'),
      dbtProject: join(dir, 'dbt_project'),
      trackerApi: `${tracker.url}/`,
      airbyte: { host: airbyteUrl.hostname, port: Number(airbyteUrl.port), connectionId },
      datahubGms: gms.url,
      githubApi: github.url,
      inbox: join(dir, 'inbox'),
      alerts: join(dir, 'alerts'),
    };
    const started = await startDagsterFor(dir, SECRETS, { TRACKER_DUCKDB_PATH: places.warehouse });
    dagster = started.dagster;
    cleanups.push(() => dagster.stop());
    gql = new DagsterGraphqlClient(dagster.graphqlUrl);
    t = await createTestApp('pglite', { environments: [started.environment] });
    cleanups.push(() => t.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  /** The pipeline's assets in Dagster (keys under its prefix), each with the keys it depends on. */
  const assetsOf = async (prefix: string[]) => {
    const { assetNodes } = await gql.request(ASSET_NODES, {});
    const under = (path: string[]) => prefix.every((part, i) => path[i] === part);
    return (assetNodes as Array<{ assetKey: { path: string[] }; dependencyKeys: Array<{ path: string[] }> }>)
      .filter((node) => under(node.assetKey.path))
      .map((node) => ({ key: node.assetKey.path, deps: node.dependencyKeys.map((d) => d.path) }));
  };

  const datasetUrn = (key: string[]) => `urn:li:dataset:(urn:li:dataPlatform:duckdb,${key.join('.')},PROD)`;

  /** Every asset but the publisher reached DataHub as a dataset, with its Dagster deps as its upstream lineage. */
  const expectLineageForEveryAsset = async (prefix: string[], publisher: string[]) => {
    const assets = (await assetsOf(prefix)).filter((a) => a.key.join('/') !== publisher.join('/'));
    expect(assets.map((a) => a.key.at(-1)).sort()).toEqual(['issues', 'issues_per_user', 'stg_issues', 'stg_users', 'sync_payments', 'users']);
    const proposals = gms.proposals();
    for (const asset of assets) {
      const urn = datasetUrn(asset.key);
      expect(proposals.some((p) => p.entityUrn === urn && p.aspectName === 'datasetProperties'), `datasetProperties of ${urn}`).toBe(true);
      // Lineage among the pipeline's own assets (dlt's and dbt's external sources stay out of DataHub).
      const deps = asset.deps.filter((dep) => assets.some((a) => a.key.join('/') === dep.join('/')));
      if (deps.length === 0) continue;
      const lineage = proposals.find((p) => p.entityUrn === urn && p.aspectName === 'upstreamLineage');
      const upstreams = ((lineage?.aspect as { upstreams?: Array<{ dataset: string }> })?.upstreams ?? []).map((u) => u.dataset).sort();
      expect(upstreams, `upstreamLineage of ${urn}`).toEqual(deps.map(datasetUrn).sort());
    }
  };

  /** The quality sensor's ticks, newest first, once `done` holds for them (the daemon ticks it every few seconds). */
  const qualityTicks = async (sensorName: string, location: string, done: (ticks: Array<{ status: string; runIds: string[] }>) => boolean) => {
    const selector = { repositoryLocationName: location, repositoryName: '__repository__', sensorName };
    const read = async () => {
      const { sensorOrError } = await gql.request(SENSOR_TICKS, { selector });
      return sensorOrError.__typename === 'Sensor' ? (sensorOrError.sensorState.ticks as Array<{ status: string; runIds: string[] }>) : [];
    };
    const ticks = await until(read, done, 240_000, 1_000);
    expect(done(ticks), `${sensorName} ticks: ${JSON.stringify(ticks.slice(0, 5))}\n${dagster.logs()}`).toBe(true);
    return ticks;
  };

  const runsTagged = async (key: string, value: string) => {
    const { runsOrError } = await gql.request(RUNS, { filter: { tags: [{ key, value }] } });
    return runsOrError.results as Array<{ runId: string; status: string; tags: Array<{ key: string; value: string }> }>;
  };

  /** Rows of a DuckDB query on the warehouse, read with the environment's Python (the same DuckDB the blocks use). */
  const warehouse = (sql: string): unknown[][] => {
    const script = 'import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps(c.execute(sys.argv[2]).fetchall(), default=str))';
    const done = spawnSync(join(VENV_BIN, 'python'), ['-c', script, places.warehouse, sql], { encoding: 'utf8' });
    expect(done.status, done.stderr).toBe(0);
    return JSON.parse(done.stdout);
  };

  /**
   * After a daily run: the data is in DuckDB, the Great Expectations check failed on the issue
   * without a title, DataHub has every asset's lineage, and the quality sensor started exactly one
   * emergency refresh for that failure, still one after two more ticks.
   */
  /** After a daily run: the Great Expectations check failed on the issue without a title, and DataHub has every asset's lineage. */
  const expectCheckedAndPublished = async (compiled: Compiled, dailyRunId: string) => {
    const prefix = compiled.namespace.asset_key_prefix;
    const { assetCheckExecutions } = await gql.request(CHECK_EXECUTIONS, { key: { path: [...prefix, 'transform', 'stg_issues'] }, name: 'check_issues' });
    expect(assetCheckExecutions[0]).toMatchObject({ runId: dailyRunId, status: 'FAILED', evaluation: { severity: 'WARN' } });
    await expectLineageForEveryAsset(prefix, [...prefix, 'publish_lineage']);
  };

  /** The tracker's tables and the dbt mart in DuckDB; read only while no run writes the file (DuckDB lets one process open it then). */
  const expectWarehouseLoaded = () => {
    expect(warehouse('select login, open_issues from analytics.issues_per_user order by login')).toEqual([
      ['ada', 1],
      ['grace', 1],
    ]);
    expect(warehouse('select count(*) from tracker_raw.issues')).toEqual([[3]]);
  };

  /** The quality sensor started exactly one emergency refresh for the failed check, still one two ticks later, and it succeeded. */
  const expectOneRemediation = async ({ id: pipelineId, compiled, location }: Deployed, dailyRunId: string) => {
    const sensor = compiled.sensors.quality_alert!.name;
    const fired = await qualityTicks(sensor, location, (ticks) => ticks.findIndex((tick) => tick.runIds.length > 0) >= 2);
    expect(fired.filter((tick) => tick.runIds.length > 0)).toHaveLength(1);
    const remediation = (await runsTagged('dagster/sensor_name', sensor)).filter((run) => tagsOf(run)['constellation/pipeline_id'] === pipelineId);
    expect(remediation).toHaveLength(1);
    expect(tagsOf(remediation[0]!)).toMatchObject({ 'constellation/failed_run': dailyRunId, 'constellation/failed_check': expect.stringContaining('check_issues') });
    // The emergency refresh runs to its end without checks, so it gives the sensor nothing new.
    const refreshed = await until(
      async () => (await runsTagged('dagster/sensor_name', sensor)).find((run) => run.runId === remediation[0]!.runId)!,
      (run) => ['SUCCESS', 'FAILURE', 'CANCELED'].includes(run.status),
    );
    expect(refreshed.status, dagster.logs()).toBe('SUCCESS');
  };

  let viaRest: Deployed;
  let viaMcp: Deployed;
  let mcp: Awaited<ReturnType<typeof mcpClient>>;
  const tool = (name: string, args: Record<string, unknown>) => mcpToolResult(mcp.client, name, args);

  // Both pipelines are deployed before anything runs: they share the org's shard, so the daemon's
  // one re-read of the workspace (about a minute) serves both.
  it('is created, compiled and deployed through the REST API', async () => {
    const created = await t.call('POST', '/v1/pipelines', seed004Spec(places, 'Issue tracker stack'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const compiled = await t.call('POST', `/v1/pipelines/${id}/compile`);
    expect(compiled.status, JSON.stringify(compiled.body)).toBe(200);
    expect(Object.keys(compiled.body.dagster_jobs)).toEqual(['daily_full_pipeline', 'incremental_sync', 'transformation_only', 'data_quality_only', 'release_triggered', 'emergency_data_refresh']);

    const deployed = await deployToDevelopment(t, id);
    expect(deployed.status, `${JSON.stringify(deployed)}\n${dagster.logs()}`).toBe('deployed');
    viaRest = { id, compiled: JSON.parse(compiled.body.files['pipeline.json']), location: deployed.location_name };
  });

  it('is proposed, compiled and deployed again through the MCP tools', async () => {
    mcp = await mcpClient(t);
    cleanups.push(() => mcp.close());
    const proposed = await tool('propose_pipeline', { spec: seed004Spec(places, 'Issue tracker stack from MCP') });
    const id = proposed.pipeline_id as string;
    const compiled = await tool('compile_pipeline', { pipeline_id: id });
    const deployed = await tool('deploy_pipeline', { pipeline_id: id, environment: 'development', dry_run: false, wait: true });
    expect(deployed.status, `${JSON.stringify(deployed)}\n${dagster.logs()}`).toBe('deployed');
    const location = (await t.call('GET', `/v1/deployments/${deployed.deployment_id}`)).body.location_name;
    expect(location).toBe(viaRest.location);
    viaMcp = { id, compiled: JSON.parse(compiled.files['pipeline.json']), location };
  });

  // The failed-check sensor only watches checks it has seen once: the daemon must tick it before a run.
  const sensorWatching = (p: Deployed) => qualityTicks(p.compiled.sensors.quality_alert!.name, p.location, (ticks) => ticks.length > 0);

  // One pipeline's runs at a time: DuckDB lets one process write the warehouse file.
  it('runs the daily job of the REST pipeline into DuckDB, publishes lineage, and remediates the failed check once', async () => {
    await sensorWatching(viaRest);
    const launched = await t.call('POST', `/v1/pipelines/${viaRest.id}/runs`, { job: 'daily_full_pipeline' });
    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    // This run's own status: the pipeline's latest run is soon the sensor's emergency refresh.
    const status = await until(async () => (await t.call('GET', `/v1/pipelines/${viaRest.id}/runs/${launched.body.run_id}`)).body, (r) => r.status !== 'running');
    expect(status.status, `${JSON.stringify(status)}\n${dagster.logs()}`).toBe('completed');
    expect(airbyte.syncs()).toBe(1);
    await expectCheckedAndPublished(viaRest.compiled, launched.body.run_id);
    await expectOneRemediation(viaRest, launched.body.run_id);
    expectWarehouseLoaded();
  });

  // Its triggers paused first (set_trigger_state, against the real daemon): the run is the only
  // writer of the warehouse, and the sensor path is the REST pipeline's test above.
  it('pauses the triggers of the MCP pipeline, runs its daily job through launch_run and pipeline_status, with the same data, check and lineage', async () => {
    const paused = await tool('set_trigger_state', { pipeline_id: viaMcp.id, state: 'paused' });
    expect(paused.environments).toEqual([expect.objectContaining({ environment: 'development', applied: true })]);
    // Five triggers, all stopped in Dagster: two schedules and three sensors.
    expect(paused.environments[0].triggers.map((x: { status: string }) => x.status)).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    const run = await tool('launch_run', { pipeline_id: viaMcp.id, job: 'daily_full_pipeline' });
    const status = await until(async () => tool('pipeline_status', { pipeline_id: viaMcp.id, run_id: run.run_id }), (s) => s.status !== 'running');
    expect(status.run.run_id).toBe(run.run_id);
    expect(status.status, `${JSON.stringify(status)}\n${dagster.logs()}`).toBe('completed');
    await expectCheckedAndPublished(viaMcp.compiled, run.run_id);
    expectWarehouseLoaded();
    expect((await runsTagged('dagster/sensor_name', viaMcp.compiled.sensors.quality_alert!.name)).length).toBe(0);
  });
});
