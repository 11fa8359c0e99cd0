import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_LOCATIONS } from '../../src/adapters/dagster/documents.ts';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import type { Db } from '../../src/adapters/store/db.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import type { CompiledPipeline } from '../../src/compile/compile-pipeline.ts';
import { DagsterLocations } from '../../src/dagster/dagster-locations.ts';
import { DEFAULT_PYTHON, type Environment } from '../../src/dagster/environments.ts';
import { shardName, withMember, type ShardFiles } from '../../src/dagster/shard-files.ts';
import { Workspace } from '../../src/dagster/workspace.ts';
import { createServices } from '../../src/services.ts';
import { NO_LIMITS } from '../../src/auth/limits.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startDagster, type DagsterServer } from '../support/dagster-server.ts';
import { legacyFlagshipFiles } from '../support/legacy-location.ts';
import { quantile, time, type Row } from './measure.ts';
import { processGroupsRssMb } from './process-memory.ts';
import { ensurePythonEnv } from './python-env.ts';

const SHARD = shardName('local', 1);

const environment = (workspaceDir: string, graphqlUrl: string | null): Environment => ({
  name: 'development',
  workspaceDir,
  graphqlUrl,
  secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'],
  python: DEFAULT_PYTHON,
  pipelinesPerShard: 200,
  policy: { approval_required_for_model_deploys: false, allow_destructive: true },
});

const until = async (check: () => Promise<boolean>, ms = 600_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('bench: gave up waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * Issue 12's figures: Dagster's memory (webserver + daemon + every code server they start) with
 * pipelines in shards against one location per pipeline, and the deploy of one pipeline into a
 * shard of 1, 10 and 100 against a one-pipeline location's deploy.
 */
export async function shardsBench(db: Db): Promise<Row[]> {
  ensurePythonEnv();
  const services = createServices(db, { limits: NO_LIMITS, environments: new Map(), pollMs: 50 });
  await services.catalogRepo.upsert(loadManifests());
  // 100 flagship pipelines, each its own pipeline with its own slug, compiled once.
  const components: CompiledPipeline[] = [];
  const ids: string[] = [];
  for (let i = 1; i <= 100; i++) {
    const view = await services.pipelines.create(LOCAL_PRINCIPAL, { ...flagshipSpec(), name: `Bench customers ${String(i).padStart(3, '0')}` });
    ids.push(view.pipeline.id);
    components.push(await services.compiler.compile(LOCAL_PRINCIPAL, view.pipeline.id));
  }
  return [...(await memoryRows(components, ids)), ...(await deployRows(db, components, ids))];
}

function writeShard(workspace: Workspace, members: CompiledPipeline[]) {
  let files: ShardFiles = workspace.readShard(SHARD);
  for (const member of members) files = withMember(SHARD, files, member);
  workspace.swapIn(SHARD, workspace.stage(SHARD, files)).commit();
}

/** A one-pipeline location as deploys wrote them before shards. */
function writeLegacy(workspace: Workspace, id: string, version: number): string {
  const name = `pipeline_${id.replace(/-/g, '').slice(0, 12)}`;
  workspace.swapIn(name, workspace.stage(name, legacyFlagshipFiles({ id, name: `Legacy ${id}`, version }))).commit();
  return name;
}

/** Starts Dagster on a workspace laid out by `layout`, waits until every location loaded and its processes settled, and reads their memory. */
async function settledMemory(layout: (workspace: Workspace) => void): Promise<{ mb: number; processes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-bench-mem-'));
  layout(new Workspace(environment(dir, null)));
  const dagster = await startDagster(join(dir, 'workspace.yaml'));
  try {
    await allLoaded(dagster);
    // The daemon starts a code server per location beside the webserver's: wait until the process
    // count and memory stop moving (two readings 5 s apart within 2%).
    let last = processGroupsRssMb(dagster.processGroups());
    for (let i = 0; i < 24; i++) {
      await new Promise((r) => setTimeout(r, 5000));
      const now = processGroupsRssMb(dagster.processGroups());
      const steady = now.processes === last.processes && Math.abs(now.mb - last.mb) < 0.02 * last.mb;
      last = now;
      if (steady) break;
    }
    return last;
  } finally {
    await dagster.stop();
  }
}

async function allLoaded(dagster: DagsterServer) {
  const client = new DagsterGraphqlClient(dagster.graphqlUrl);
  await until(async () => {
    const ws = (await client.request(WORKSPACE_LOCATIONS)).workspaceOrError;
    const entries = ws.__typename === 'Workspace' ? (ws.locationEntries as Array<{ loadStatus: string; locationOrLoadError: { __typename: string } | null }>) : [];
    const failed = entries.find((e) => e.loadStatus === 'LOADED' && e.locationOrLoadError?.__typename !== 'RepositoryLocation');
    if (failed) throw new Error(`bench: a location did not load: ${JSON.stringify(failed).slice(0, 2000)}`);
    return entries.length > 0 && entries.every((e) => e.loadStatus === 'LOADED');
  });
}

async function memoryRows(components: CompiledPipeline[], ids: string[]): Promise<Row[]> {
  const legacy10 = await settledMemory((ws) => ids.slice(0, 10).forEach((id) => writeLegacy(ws, id, 1)));
  const shard10 = await settledMemory((ws) => writeShard(ws, components.slice(0, 10)));
  const shard100 = await settledMemory((ws) => writeShard(ws, components.slice(0, 100)));
  process.stderr.write(`bench memory: 10 locations → ${legacy10.processes} processes, ${legacy10.mb.toFixed(0)} MB; shard of 10 → ${shard10.processes}, ${shard10.mb.toFixed(0)} MB; shard of 100 → ${shard100.processes}, ${shard100.mb.toFixed(0)} MB\n`);
  const perLocation = legacy10.mb / 10;
  return [
    { measure: 'Dagster memory (webserver + daemon + code servers), 10 pipelines in one shard', value: shard10.mb, baseline: '10 pipelines, one location each (before shards)', baselineValue: legacy10.mb, ratio: 'times', target: 'lower', unit: 'MB' },
    { measure: 'Dagster memory, 100 pipelines in one shard', value: shard100.mb, baseline: '100 one-pipeline locations, extrapolated: 10 measured x 10 (would not fit in 24 GB)', baselineValue: perLocation * 100, ratio: 'times', target: 'lower', unit: 'MB' },
    { measure: 'memory per pipeline beyond the first, in a shard (10 -> 100)', value: (shard100.mb - shard10.mb) / 90, baseline: 'memory per one-pipeline location (10 measured)', baselineValue: perLocation, ratio: 'times', target: '< 20 MB', unit: 'MB' },
  ];
}

/**
 * A new version of one pipeline deployed through the service (check, swap, reload, load check)
 * into a shard holding 1, 10 and 100 pipelines, each beside a one-pipeline location's deploy (its
 * files written, Dagster reloads that location and it loads), alternately on one real Dagster.
 */
async function deployRows(db: Db, components: CompiledPipeline[], ids: string[], rounds = 3): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-bench-deploy-'));
  writeFileSync(join(dir, 'workspace.yaml'), 'load_from: []\n');
  const dagster = await startDagster(join(dir, 'workspace.yaml'));
  const env = environment(dir, dagster.graphqlUrl);
  const workspace = new Workspace(env);
  const services = createServices(db, { limits: NO_LIMITS, environments: new Map([['development', env]]), pollMs: 50 });
  services.worker.start();
  const locations = new DagsterLocations(new DagsterGraphqlClient(dagster.graphqlUrl));
  try {
    const deployed = ids[0]!;
    let version = 1;
    const deployOnce = async () => {
      await services.pipelines.patch(LOCAL_PRINCIPAL, deployed, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 1000 + version++ }]);
      const d = await services.deployments.request(LOCAL_PRINCIPAL, deployed, { environment: 'development' }, { surface: 'cli' });
      await until(async () => !['pending', 'in_progress'].includes((await services.deploymentRepo.get(LOCAL_PRINCIPAL, d.id))!.status));
      const done = (await services.deploymentRepo.get(LOCAL_PRINCIPAL, d.id))!;
      if (done.status !== 'deployed') throw new Error(`bench deploy ${done.status}: ${done.error ?? done.message}`);
    };
    const legacyId = '00000000-0000-4000-8000-00000000be0c';
    let legacyVersion = 1;
    const legacy = writeLegacy(workspace, legacyId, legacyVersion);
    const legacyDeploy = async () => {
      writeLegacy(workspace, legacyId, ++legacyVersion);
      const outcome = await locations.load(legacy);
      if (!outcome.ok) throw new Error(`bench legacy deploy: ${outcome.error}`);
    };
    await deployOnce(); // first loads are not what is compared
    await legacyDeploy();
    const rows: Row[] = [];
    for (const size of [1, 10, 100]) {
      if (size > 1) {
        // The shard filled around the deployed pipeline, as earlier deploys would have left it.
        writeShard(workspace, components.slice(1, size));
        const outcome = await locations.load(SHARD);
        if (!outcome.ok) throw new Error(`bench: shard of ${size} did not load: ${outcome.error}`);
      }
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        ours.push(await time(deployOnce));
        theirs.push(await time(legacyDeploy));
      }
      rows.push({ measure: `deploy one pipeline into a shard holding ${size}, median of ${rounds}`, value: quantile(ours, 0.5), baseline: 'one-pipeline location deploy (write + Dagster reload)', baselineValue: quantile(theirs, 0.5), ratio: 'times', target: size === 100 ? '<= 2x' : 'report' });
    }
    return rows;
  } finally {
    await services.worker.stop();
    await dagster.stop();
  }
}
