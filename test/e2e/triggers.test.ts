import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELOAD_LOCATION } from '../../src/adapters/dagster/documents.ts';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import type { DagsterServer } from '../support/dagster-server.ts';
import { startGitHubReleases, type StandIn } from '../support/stand-ins.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { createDatabase, e2eFolder, startDagsterFor, until } from './platform.ts';

const SENSOR = `query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 100) { timestamp status cursor runIds error { message } } } }
    ... on Error { message }
  }
}`;

const RUNS = `query Runs($filter: RunsFilter!) { runsOrError(filter: $filter) { __typename ... on Runs { results { runId tags { key value } } } } }`;

const TRIGGER_STATES = `query States($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository { schedules { name scheduleState { status } } sensors { name sensorState { status } } }
    ... on Error { message }
  }
}`;

type Tick = { timestamp: number; status: string; cursor: string | null; runIds: string[]; error: { message: string } | null };

/**
 * Issue 13's sensor tests, in a real Dagster daemon: one deploy holds seed 004's three sensors (the
 * daemon sees a new location only about once a minute, so they share the wait). A dropped file gives
 * exactly one run, and still one after two more ticks; a new GitHub release (a local stand-in of
 * GitHub's REST API) gives one run; an alert file gives the alert sensor's one remediation run.
 * Then pausing stops every schedule and sensor in Dagster, a redeploy keeps them stopped (a sensor
 * the new version adds included), and resuming starts them again.
 */
describe('sensors and pause/resume in a real Dagster daemon', () => {
  let dagster: DagsterServer;
  let t: TestApp;
  let github: StandIn;
  let gql: DagsterGraphqlClient;
  let dir: string;
  let sourceUrl: string;
  let pipelineId: string;
  let location: string;
  const releases = [{ id: 101, tag_name: 'v1.0.0' }];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const folder = e2eFolder('constellation-e2e-triggers-', ['inbox', 'alerts']);
    dir = folder.dir;
    cleanups.push(folder.remove);

    // A source table for the job the sensors start: customers, from the test run's Postgres.
    sourceUrl = await createDatabase('triggers');
    const source = new pg.Client({ connectionString: sourceUrl });
    await source.connect();
    await source.query(`CREATE TABLE customers (id bigint PRIMARY KEY, name text, created_at timestamp NOT NULL, updated_at timestamp NOT NULL)`);
    await source.query(`INSERT INTO customers VALUES (1, 'a', '2026-01-01', '2026-01-01'), (2, 'b', '2026-01-02', '2026-01-02')`);
    await source.end();

    github = await startGitHubReleases(releases);
    cleanups.push(() => github.close());
    const started = await startDagsterFor(dir, { SOURCE_DB_URL: sourceUrl, GITHUB_TOKEN: 'e2e-token' });
    dagster = started.dagster;
    cleanups.push(() => dagster.stop());
    gql = new DagsterGraphqlClient(dagster.graphqlUrl);
    const environment = started.environment;
    t = await createTestApp('pglite', { environments: [environment] });
    cleanups.push(() => t.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  const spec = (extraSensor = false): PipelineSpec => {
    const both = ['extract_customers', 'load_customers'];
    return {
      name: 'freelancer data stack',
      blocks: [
        { id: 'extract_customers', type: 'postgres_incremental_extract@1', config: { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' } },
        { id: 'load_customers', type: 'duckdb_load@1', config: { database_path: join(dir, 'warehouse.duckdb'), table: 'customers', mode: 'merge', primary_key: ['id'] } },
      ],
      edges: [{ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'load_customers', port: 'rows' } }],
      jobs: [
        { id: 'daily_data_pipeline', blocks: both },
        { id: 'incremental_sync', blocks: both },
        { id: 'release_triggered', blocks: both },
        { id: 'emergency_data_refresh', blocks: both, checks: false },
      ],
      schedules: [
        { id: 'daily', cron: '0 2 * * *', timezone: 'UTC', job: 'daily_data_pipeline' },
        { id: 'every_6_hours', cron: '0 */6 * * *', timezone: 'UTC', job: 'incremental_sync' },
      ],
      sensors: [
        { id: 'file_arrival', type: 'file_arrival_sensor@1', job: 'incremental_sync', config: { local_directory: join(dir, 'inbox'), pattern: '*.csv', minimum_interval_seconds: 5 } },
        { id: 'github_release', type: 'github_release_sensor@1', job: 'release_triggered', config: { repository: 'acme/app', api_url: github.url, minimum_interval_seconds: 60 } },
        { id: 'quality_alert', type: 'data_quality_alert_sensor@1', job: 'emergency_data_refresh', config: { alert_directory: join(dir, 'alerts'), minimum_interval_seconds: 5 } },
        ...(extraSensor ? [{ id: 'late_files', type: 'file_arrival_sensor@1', job: 'incremental_sync', config: { local_directory: join(dir, 'inbox'), pattern: '*.json' } }] : []),
      ],
    };
  };

  const deploy = async () => {
    const requested = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const done = await until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status));
    expect(done.status, `${JSON.stringify(done)}\n${dagster.logs()}`).toBe('deployed');
    location = done.location_name;
    return done;
  };

  const sensorName = (id: string) => `freelancer_data_stack__${id}`;
  const ticks = async (id: string): Promise<Tick[]> => {
    const selector = { repositoryLocationName: location, repositoryName: '__repository__', sensorName: sensorName(id) };
    const { sensorOrError } = await gql.request(SENSOR, { selector });
    expect(sensorOrError.__typename, JSON.stringify(sensorOrError)).toBe('Sensor');
    return sensorOrError.sensorState.ticks;
  };
  const runsOf = async (id: string): Promise<string[]> => {
    const { runsOrError } = await gql.request(RUNS, { filter: { tags: [{ key: 'dagster/sensor_name', value: sensorName(id) }] } });
    return runsOrError.results.map((r: { runId: string }) => r.runId);
  };
  const whenTicked = (id: string, done: (ticks: Tick[]) => boolean) =>
    until(() => ticks(id), done, 240_000, 1_000).then((found) => {
      expect(done(found), `sensor ${id} ticks: ${JSON.stringify(found.slice(0, 5))}\n${dagster.logs()}`).toBe(true);
      return found;
    });

  it('fires each sensor once for what is new, and never again for it', async () => {
    const created = await t.call('POST', '/v1/pipelines', spec());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pipelineId = created.body.id;
    await deploy();

    // The daemon picks the new location up within about a minute; each sensor's first tick is then
    // recorded (the release sensor's cursor is the newest release it found, 101).
    await whenTicked('github_release', (ts) => ts.some((tick) => tick.cursor === '101'));
    await whenTicked('file_arrival', (ts) => ts.length > 0);
    await whenTicked('quality_alert', (ts) => ts.length > 0);
    expect(await runsOf('file_arrival')).toEqual([]);
    expect(await runsOf('github_release')).toEqual([]);

    writeFileSync(join(dir, 'inbox', 'orders-2026-12-01.csv'), 'id\n1\n');
    writeFileSync(join(dir, 'alerts', 'orders-null-ids.json'), '{"check": "orders not null"}');
    releases.push({ id: 102, tag_name: 'v1.1.0' });

    // Ticks come newest first: two ticks after the one that fired, still exactly that one run.
    const after = await whenTicked('file_arrival', (ts) => ts.findIndex((tick) => tick.runIds.length > 0) >= 2);
    expect(after.filter((tick) => tick.runIds.length > 0)).toHaveLength(1);
    expect(await runsOf('file_arrival')).toHaveLength(1);

    await whenTicked('quality_alert', (ts) => ts.some((tick) => tick.runIds.length > 0));
    await whenTicked('github_release', (ts) => ts.some((tick) => tick.runIds.length > 0));
    const [releaseRun] = await runsOf('github_release');
    const [alertRun] = await runsOf('quality_alert');
    expect(await runsOf('github_release')).toHaveLength(1);
    expect(await runsOf('quality_alert')).toHaveLength(1);
    // Each run is the sensor's job, tagged with what the sensor saw and with the pipeline.
    const { runsOrError } = await gql.request(RUNS, { filter: { runIds: [releaseRun, alertRun] } });
    const tags = Object.fromEntries(
      runsOrError.results.map((r: { runId: string; tags: Array<{ key: string; value: string }> }) => [r.runId, Object.fromEntries(r.tags.map((x) => [x.key, x.value]))]),
    );
    expect(tags[releaseRun!]).toMatchObject({ 'constellation/github_release': 'v1.1.0', 'constellation/pipeline_id': pipelineId });
    expect(tags[alertRun!]).toMatchObject({ 'constellation/alert_file': join(dir, 'alerts', 'orders-null-ids.json') });
    // Only the releases endpoint was asked (the token header is asserted in blocks/python/tests/test_triggers.py).
    expect(github.received.length).toBeGreaterThanOrEqual(2);
    expect(github.received.every((r) => r.path === '/repos/acme/app/releases?per_page=100')).toBe(true);
  });

  const states = async () => {
    const { repositoryOrError: repo } = await gql.request(TRIGGER_STATES, { selector: { repositoryLocationName: location, repositoryName: '__repository__' } });
    expect(repo.__typename, JSON.stringify(repo)).toBe('Repository');
    const mine = (name: string) => name.startsWith('freelancer_data_stack__');
    return Object.fromEntries([
      ...repo.schedules.filter((s: { name: string }) => mine(s.name)).map((s: { name: string; scheduleState: { status: string } }) => [s.name, s.scheduleState.status]),
      ...repo.sensors.filter((s: { name: string }) => mine(s.name)).map((s: { name: string; sensorState: { status: string } }) => [s.name, s.sensorState.status]),
    ]);
  };

  it('pauses every schedule and sensor, keeps them paused across a redeploy, and resumes them', async () => {
    expect(Object.values(await states())).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
    const paused = await t.call('POST', `/v1/pipelines/${pipelineId}/triggers/pause`, {});
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.environments).toEqual([expect.objectContaining({ environment: 'development', applied: true })]);
    expect(paused.body.environments[0].triggers.map((x: { status: string }) => x.status)).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    expect(Object.values(await states())).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    // Dagster itself keeps the state it was told across a reload of the location, default_status RUNNING notwithstanding.
    const reloaded = await gql.request(RELOAD_LOCATION, { name: location });
    expect(reloaded.reloadRepositoryLocation.__typename).toBe('WorkspaceLocationEntry');
    expect(Object.values(await states())).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);

    // A new version with one more sensor: Dagster keeps the stopped ones stopped, the deploy stops the new one.
    const replaced = await t.call('PUT', `/v1/pipelines/${pipelineId}`, { spec: spec(true) });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    const redeployed = await deploy();
    expect(redeployed.message).toContain('stay paused');
    const after = await states();
    expect(Object.keys(after)).toContain('freelancer_data_stack__late_files');
    expect(new Set(Object.values(after))).toEqual(new Set(['STOPPED']));

    const resumed = await t.call('POST', `/v1/pipelines/${pipelineId}/triggers/resume`, { environment: 'development' });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(new Set(Object.values(await states()))).toEqual(new Set(['RUNNING']));
  });
});
