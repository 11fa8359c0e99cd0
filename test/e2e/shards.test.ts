import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { locationNameFor } from '../../src/compile/compile-pipeline.ts';
import { SYSTEM_LOCATION } from '../../src/dagster/workspace.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { withSecretNamed } from '../support/broken-component.ts';
import { writeLegacyFlagship } from '../support/legacy-location.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { runToEnd as runPipeline, startPlatform, until, type Platform } from './platform.ts';

const LOCATIONS = `{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }`;

const LISTING = `query Listing($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      assetNodes { assetKey { path } assetChecksOrError { __typename ... on AssetChecks { checks { name } } } }
      jobs { name }
      schedules { name scheduleState { status } }
      sensors { name }
    }
    ... on Error { message }
  }
}`;

const COLLISIONS = `query Collisions($keys: [AssetKeyInput!]!) { assetNodeDefinitionCollisions(assetKeys: $keys) { assetKey { path } } }`;

const LATEST = `query Latest($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset { assetMaterializations(limit: 1) { runId metadataEntries { label ... on IntMetadataEntry { intValue } } } }
  }
}`;

const LAUNCH = `mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on Error { message } }
}`;

const RUN = `query Run($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }`;

/** Customers from the platform's Postgres into a DuckDB file of the pipeline's own, every 6 hours, with a second job that only extracts. */
const toDuckdb = (name: string, databasePath: string): PipelineSpec => ({
  name,
  blocks: [
    { id: 'extract_customers', type: 'postgres_incremental_extract@1', config: { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' } },
    { id: 'load_customers', type: 'duckdb_load@1', config: { database_path: databasePath, table: 'customers', mode: 'merge', primary_key: ['id'] } },
  ],
  edges: [{ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'load_customers', port: 'rows' } }],
  // Two jobs, the first (what a run launches unless told) over every block.
  jobs: [
    { id: 'load_all', blocks: ['extract_customers', 'load_customers'] },
    { id: 'extract_only', blocks: ['extract_customers'] },
  ],
  schedules: [{ id: 'every_6_hours', job: 'load_all', cron: '0 */6 * * *', timezone: 'UTC' }],
  sensors: [],
});

/**
 * Issue 12's "Done means", against a real Dagster: pipelines built from the same block names share
 * one shard location without colliding, each keeps its own watermark, a pipeline that does not
 * load is refused while the shard keeps serving the others, Dagster lists exactly what a spec
 * declares, and a pipeline deployed the old way (a location of its own) moves into the shard with
 * its watermark.
 */
describe('pipelines as components of shared code locations, on a real Dagster', () => {
  let platform: Platform;
  let t: TestApp;
  let gql: DagsterGraphqlClient;
  const ids: Record<string, string> = {};
  let shard: string;
  let unchecked = false;

  beforeAll(async () => {
    platform = await startPlatform({ customers: 10 });
    t = await createTestApp('postgres', {
      environments: [platform.environment],
      // A pipeline the block library refuses to load: nothing the API accepts is one, so the
      // compiled file is changed on its way to the shard.
      alterCompiled: (compiled, deployment) => (deployment.pipeline_id === ids.broken ? withSecretNamed(compiled, 'not a variable name') : compiled),
      // Its second deployment skips the load check, as if the check had passed: Dagster refuses the swapped-in shard.
      uncheckedDeploy: (deployment) => deployment.pipeline_id === ids.broken && unchecked,
    });
    gql = new DagsterGraphqlClient(platform.dagster.graphqlUrl);
  });
  afterAll(async () => {
    await t?.close();
    await platform?.stop();
  });

  const create = async (key: string, spec: PipelineSpec) => {
    const res = await t.call('POST', '/v1/pipelines', spec);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[key] = res.body.id;
    return res.body.id as string;
  };
  const deploy = async (pipelineId: string) => {
    const requested = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    return until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status));
  };
  const runToEnd = (pipelineId: string) => runPipeline(t, platform, pipelineId);
  const compiledOf = (pipelineId: string) => t.services.compiler.compile(LOCAL_PRINCIPAL, pipelineId);
  /** The pipeline.json compile made: the pipeline's Dagster names and asset key prefix. */
  const pipelineJsonOf = async (pipelineId: string) => JSON.parse((await compiledOf(pipelineId)).files['pipeline.json']!);
  const keyOf = async (pipelineId: string, block: string) => [...(await pipelineJsonOf(pipelineId)).namespace.asset_key_prefix, block];
  /** What Dagster should list for a pipeline, from its spec: each block's asset, each job (and the default one), each schedule, under the names compile gave them. */
  const declared = async (pipelineId: string) => {
    const spec = (await t.call('GET', `/v1/pipelines/${pipelineId}`)).body.spec as PipelineSpec;
    const compiled = await compiledOf(pipelineId);
    const json = await pipelineJsonOf(pipelineId);
    expect(compiled.jobs).toEqual([...spec.jobs.map((j) => j.id), ...(compiled.defaultJob ? [compiled.defaultJob] : [])]);
    return {
      assets: spec.blocks.map((b) => [...json.namespace.asset_key_prefix, b.id].join('/')),
      checks: [] as string[],
      jobs: compiled.jobs.map((j) => compiled.dagsterJobs[j]!),
      schedules: spec.schedules.map((s) => json.schedules[s.id].name as string),
      sensors: spec.sensors.map((s) => s.id),
    };
  };
  const extracted = async (path: string[]) => {
    const data = await gql.request(LATEST, { path });
    const entries = (data.assetOrError.assetMaterializations[0]?.metadataEntries ?? []) as Array<{ label: string; intValue?: number }>;
    return Object.fromEntries(entries.filter((e) => e.intValue !== undefined).map((e) => [e.label, e.intValue]));
  };
  const everyLocation = async () => (await gql.request(LOCATIONS)).workspaceOrError.locationEntries as Array<{ name: string; locationOrLoadError: { __typename: string; message?: string } }>;
  // The pipelines' locations: every workspace also has the system location (source inspection's), checked once below.
  const locations = async () => (await everyLocation()).filter((l) => l.name !== SYSTEM_LOCATION);
  const listing = async (location: string) => {
    const data = await gql.request(LISTING, { selector: { repositoryLocationName: location, repositoryName: '__repository__' } });
    expect(data.repositoryOrError.__typename, JSON.stringify(data)).toBe('Repository');
    return data.repositoryOrError;
  };

  it('deploys two pipelines built from the same block names into one shard location', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'constellation-shards-duckdb-'));
    for (const key of ['first', 'second']) {
      const id = await create(key, toDuckdb(`Customers ${key}`, join(dir, `${key}.duckdb`)));
      const done = await deploy(id);
      expect(done.status, `${JSON.stringify(done)}\n${platform.dagster.logs()}`).toBe('deployed');
      shard ??= done.location_name;
      expect(done.location_name).toBe(shard);
    }
    expect(shard).toBe('local_shard_1');
    expect(await locations()).toEqual([{ name: shard, loadStatus: 'LOADED', locationOrLoadError: { __typename: 'RepositoryLocation' } }]);
    // The first deploy's workspace reload loaded the system location beside the shard.
    expect((await everyLocation()).find((l) => l.name === SYSTEM_LOCATION)?.locationOrLoadError.__typename).toBe('RepositoryLocation');
    const all = await Promise.all(['first', 'second'].flatMap((k) => ['extract_customers', 'load_customers'].map((b) => keyOf(ids[k]!, b))));
    expect(new Set(all.map((k) => k.join('/'))).size).toBe(4);
    const collisions = await gql.request(COLLISIONS, { keys: all.map((path) => ({ path })) });
    expect(collisions.assetNodeDefinitionCollisions).toEqual([]);
  });

  it('lists in Dagster exactly the assets, checks, jobs, schedules and sensors the specs declare', async () => {
    const repo = await listing(shard);
    const listed = {
      assets: repo.assetNodes.map((a: any) => a.assetKey.path.join('/')).sort(),
      checks: repo.assetNodes.flatMap((a: any) => (a.assetChecksOrError.checks ?? []).map((c: any) => `${a.assetKey.path.join('/')}:${c.name}`)).sort(),
      // __ASSET_JOB is Dagster's own job over every asset, not one a spec declares.
      jobs: repo.jobs.map((j: any) => j.name).filter((n: string) => !n.startsWith('__ASSET_JOB')).sort(),
      schedules: repo.schedules.map((s: any) => s.name).sort(),
      sensors: repo.sensors.map((s: any) => s.name).sort(),
    };
    const both = await Promise.all([ids.first!, ids.second!].map(declared));
    const union = (key: keyof (typeof both)[0]) => both.flatMap((d) => d[key]).sort();
    expect(listed).toEqual({ assets: union('assets'), checks: union('checks'), jobs: union('jobs'), schedules: union('schedules'), sensors: union('sensors') });
    expect(listed.jobs).toHaveLength(4);
    expect(repo.schedules.map((s: any) => s.scheduleState.status)).toEqual(['RUNNING', 'RUNNING']);
  });

  it('keeps each pipeline\'s watermark to itself', async () => {
    await runToEnd(ids.first!);
    expect(await extracted(await keyOf(ids.first!, 'extract_customers'))).toMatchObject({ total_rows: 10, new_rows: 10 });
    await platform.source.query(
      `INSERT INTO customers SELECT i, 'customer ' || i, NULL, NULL, timestamp '2026-02-02 00:00:00' + i * interval '1 minute', timestamp '2026-02-02 00:00:00' + i * interval '1 minute'
       FROM generate_series(11, 13) AS i`,
    );
    // The second pipeline has extracted nothing yet: it reads every row, whatever the first did.
    await runToEnd(ids.second!);
    expect(await extracted(await keyOf(ids.second!, 'extract_customers'))).toMatchObject({ total_rows: 13, new_rows: 13 });
    // The first goes on from its own watermark (row 10, re-read by design) and reads only what is newer.
    await runToEnd(ids.first!);
    expect(await extracted(await keyOf(ids.first!, 'extract_customers'))).toMatchObject({ total_rows: 4 });
  });

  it('refuses a pipeline that does not load, with the library\'s error, and the shard keeps serving the others', async () => {
    const before = readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8');
    const jobsBefore = (await listing(shard)).jobs.map((j: any) => j.name).sort();
    const id = await create('broken', toDuckdb('Customers broken', join(tmpdir(), 'never-written.duckdb')));
    const done = await deploy(id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/connection_secret must name an environment variable/);
    expect(done.message).toContain(`code location ${shard} is unchanged`);
    expect(t.services.connections.get('development')!.workspace.componentsIn(shard)).toHaveLength(2);
    expect(readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8')).toBe(before);
    expect((await listing(shard)).jobs.map((j: any) => j.name).sort()).toEqual(jobsBefore);
    await runToEnd(ids.second!);
  });

  it("rolls the shard back when Dagster itself does not load it after the swap, and Dagster serves the others again", async () => {
    const workspace = t.services.connections.get('development')!.workspace;
    const before = { files: workspace.readShard(shard), yaml: readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8') };
    unchecked = true;
    const done = await deploy(ids.broken!).finally(() => (unchecked = false));
    expect(done.status).toBe('failed');
    expect(done.message).toBe('Dagster could not load version 1; the previous version stays in place.');
    expect(done.error).toMatch(/connection_secret must name an environment variable/);
    expect(workspace.readShard(shard)).toEqual(before.files);
    expect(readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8')).toBe(before.yaml);
    expect(await locations()).toEqual([{ name: shard, loadStatus: 'LOADED', locationOrLoadError: { __typename: 'RepositoryLocation' } }]);
    await runToEnd(ids.first!);
  });

  it('moves a pipeline deployed the old way into the shard: its location leaves, its watermark carries over', async () => {
    const spec = flagshipSpec();
    const id = await create('legacy', spec);
    const legacy = locationNameFor(id);
    const workspace = t.services.connections.get('development')!.workspace;
    // As a deploy before shards left it: a location of its own, recorded as deployed there.
    await t.services.deploymentRepo.create(LOCAL_PRINCIPAL, { pipelineId: id, version: 1, environment: 'development', locationName: legacy }).then((d) =>
      t.db.query(`UPDATE deployments SET status = 'deployed', finished_at = now() WHERE id = $1`, [d.id]),
    );
    writeLegacyFlagship(workspace, { id, name: spec.name, version: 1 }, legacy);
    expect((await t.services.connections.get('development')!.locations!.load(legacy)).ok).toBe(true);

    // Its first run, in its old location, as the old layout ran it: every row, under the one-part key.
    const launch = await gql.request(LAUNCH, { params: { selector: { repositoryLocationName: legacy, repositoryName: '__repository__', jobName: 'all_blocks' }, executionMetadata: { tags: [{ key: 'constellation/pipeline_id', value: id }] } } });
    expect(launch.launchRun.__typename, JSON.stringify(launch)).toBe('LaunchRunSuccess');
    const run = await until(() => gql.request(RUN, { id: launch.launchRun.run.runId }), (r) => ['SUCCESS', 'FAILURE', 'CANCELED'].includes(r.runOrError.status));
    expect(run.runOrError.status, platform.dagster.logs()).toBe('SUCCESS');
    expect(await extracted(['extract_customers'])).toMatchObject({ total_rows: 13, new_rows: 13 });

    await platform.source.query(
      `INSERT INTO customers SELECT i, 'customer ' || i, NULL, NULL, timestamp '2026-03-03 00:00:00' + i * interval '1 minute', timestamp '2026-03-03 00:00:00' + i * interval '1 minute'
       FROM generate_series(14, 15) AS i`,
    );
    const done = await deploy(id);
    expect(done.status, `${JSON.stringify(done)}\n${platform.dagster.logs()}`).toBe('deployed');
    expect(done.location_name).toBe(shard);
    expect(workspace.componentsIn(shard)).toContain((await compiledOf(id)).componentName);
    expect(readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8')).not.toContain(legacy);
    expect((await locations()).map((l) => l.name)).toEqual([shard]);

    // The next run reads only what is newer than the legacy watermark (row 13, re-read by design).
    await runToEnd(id);
    expect(await extracted(await keyOf(id, 'extract_customers'))).toMatchObject({ total_rows: 3 });
  });

  it('takes a deleted pipeline\'s folder out of its shard, and the last one out takes the shard out of the workspace', async () => {
    const workspace = t.services.connections.get('development')!.workspace;
    const components = Object.fromEntries(await Promise.all(['first', 'second', 'legacy'].map(async (k) => [k, (await compiledOf(ids[k]!)).componentName] as const)));
    for (const key of ['first', 'second']) {
      expect((await t.call('DELETE', `/v1/pipelines/${ids[key]}`)).status).toBe(200);
      expect(workspace.componentsIn(shard)).not.toContain(components[key]);
      expect(await locations()).toEqual([{ name: shard, loadStatus: 'LOADED', locationOrLoadError: { __typename: 'RepositoryLocation' } }]);
    }
    expect((await listing(shard)).assetNodes).toHaveLength(2);
    expect((await t.call('DELETE', `/v1/pipelines/${ids.legacy}`)).status).toBe(200);
    expect(readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8')).not.toContain(shard);
    expect(await locations()).toEqual([]);
  });
});
