import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { TELEMETRY_OFF } from '../../src/adapters/dagster/telemetry-off.ts';
import type { Db } from '../../src/adapters/store/db.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { DagsterLocations } from '../../src/dagster/dagster-locations.ts';
import { DEFAULT_PYTHON, type Environment } from '../../src/dagster/environments.ts';
import { Workspace } from '../../src/dagster/workspace.ts';
import { createServices, type Services } from '../../src/services.ts';
import { NO_LIMITS } from '../../src/auth/limits.ts';
import { DBT_FIXTURE_PROJECT, SNAPSHOT_PLACES, seed004Spec, type Seed004Places } from '../compile/seed-004.ts';
import { startDagster } from '../support/dagster-server.ts';
import { benchEnvironment, deployAndWait, reloadUntilLoaded } from './bench-dagster.ts';
import { quantile, time, type Row } from './measure.ts';
import { ensurePythonEnv } from './python-env.ts';

// The secrets seed 004's blocks use (blocks/manifests), under their default names: the spec names
// none itself, and a deploy is refused while the environment lacks one.
const SECRETS = ['AIRBYTE_API_TOKEN', 'DATAHUB_GMS_TOKEN', 'GITHUB_TOKEN'];
const BY_HAND = 'seed004_by_hand';
const HANDWRITTEN = join(import.meta.dirname, 'fixtures/seed004_handwritten.py');
// Nothing is run, only loaded: the servers are a closed port, so a sensor's tick fails fast.
const NOWHERE = 'http://127.0.0.1:9';

type DbtVars = Record<string, number>;

/**
 * Issue 13's figure: our deploy of the seed 004 pipeline (compile, the deploy-time dbt parse, the
 * shard's write and check, reload, load check) against Dagster loading the same definitions
 * written by hand (`dbt parse`, then Dagster's reload of a python_file location), alternately on
 * one real webserver. Each round changes the dbt vars of both: the manifest cache is keyed by
 * them, so every measured deploy parses the project again, and so does every baseline round.
 */
export async function seed004Bench(db: Db, rounds = 3): Promise<Row[]> {
  ensurePythonEnv();
  const scratch = mkdtempSync(join(tmpdir(), 'constellation-bench-seed004-'));
  const places = placesIn(scratch);
  const workspaceDir = join(scratch, 'workspace');
  mkdirSync(workspaceDir);
  writeFileSync(join(workspaceDir, 'workspace.yaml'), 'load_from: []\n');
  const dagster = await startDagster(join(workspaceDir, 'workspace.yaml'));
  const env = benchEnvironment(workspaceDir, dagster.graphqlUrl, SECRETS);
  // A cache of its own: manifests parsed by an earlier bench run (same vars) would skip the parse.
  const manifestCache = join(scratch, 'dbt-manifests');
  const services = createServices(db, { limits: NO_LIMITS, environments: new Map([['development', env]]), pollMs: 50, dbtManifestDir: manifestCache });
  await services.catalogRepo.upsert(loadManifests());
  services.worker.start();
  const client = new DagsterGraphqlClient(dagster.graphqlUrl);
  try {
    const byHandDir = new Workspace(env).locationDir(BY_HAND);
    const byHand = async (vars: DbtVars) => {
      await writeByHand(byHandDir, places, vars);
      await reloadUntilLoaded(client, BY_HAND);
    };
    // The first load of a new location is not what is compared, for either.
    await addByHand(env, client, byHandDir, places);
    const id = (await services.pipelines.create(LOCAL_PRINCIPAL, seed004Spec(places))).pipeline.id;
    await deployAndWait(services, id);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 1; i <= rounds; i++) {
      const vars = { bench_round: i };
      await setTransformVars(services, id, vars);
      const parsed = readdirSync(manifestCache).length;
      ours.push(await time(() => deployAndWait(services, id)));
      if (readdirSync(manifestCache).length <= parsed) throw new Error('bench: the deploy did not parse the dbt project (its manifest came from the cache)');
      theirs.push(await time(() => byHand(vars)));
    }
    process.stderr.write(`bench seed004: our deploys ${ms(ours)}; by hand ${ms(theirs)}\n`);
    return [
      {
        measure: `deploy the seed 004 pipeline to a real Dagster (dbt parse included), median of ${rounds}`,
        value: quantile(ours, 0.5),
        baseline: 'Dagster loading the same definitions written by hand (dbt parse included)',
        baselineValue: quantile(theirs, 0.5),
        ratio: 'times',
        target: '<= 2x',
      },
    ];
  } finally {
    await services.worker.stop();
    await dagster.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const ms = (samples: number[]) => samples.map((s) => `${s.toFixed(0)} ms`).join(', ');

/** Where the pipeline's files would be (none is written: nothing runs), in `dir`; the dbt project is the fixture one. */
function placesIn(dir: string): Seed004Places {
  const inbox = join(dir, 'inbox');
  const alerts = join(dir, 'alerts');
  mkdirSync(inbox);
  mkdirSync(alerts);
  return {
    warehouse: join(dir, 'warehouse.duckdb'),
    dbtProject: DBT_FIXTURE_PROJECT,
    trackerApi: `${NOWHERE}/api/`,
    airbyte: { ...SNAPSHOT_PLACES.airbyte, host: '127.0.0.1', port: 9 },
    datahubGms: NOWHERE,
    githubApi: NOWHERE,
    inbox,
    alerts,
  };
}

/** A new version of the pipeline whose dbt_run block passes `vars`: a new manifest cache key, so the next deploy parses. */
async function setTransformVars(services: Services, id: string, vars: DbtVars) {
  const index = seed004Spec().blocks.findIndex((b) => b.id === 'transform');
  await services.pipelines.patch(LOCAL_PRINCIPAL, id, [{ op: 'add', path: `/blocks/${index}/config/vars`, value: vars }]);
}

/**
 * The hand-written location in the workspace, where the service's own workspace.yaml writer lists
 * it (a python_file entry, kept when our deploys rewrite the file), and loaded once.
 */
async function addByHand(env: Environment, client: DagsterGraphqlClient, dir: string, places: Seed004Places) {
  mkdirSync(dir, { recursive: true });
  copyFileSync(HANDWRITTEN, join(dir, 'definitions.py'));
  await writeByHand(dir, places, {});
  new Workspace(env).writeWorkspaceYaml();
  const outcome = await new DagsterLocations(client).load(BY_HAND);
  if (!outcome.ok) throw new Error(`bench: the hand-written location did not load: ${outcome.error}`);
}

/**
 * What a person deploying the hand-written location does for a new version: `dbt parse` (from
 * scratch, as ours parses) into the location's folder, and its places.json beside it.
 */
async function writeByHand(dir: string, places: Seed004Places, vars: DbtVars) {
  const target = join(dir, 'target');
  rmSync(target, { recursive: true, force: true });
  const project = places.dbtProject;
  const args = ['parse', '--project-dir', project, '--profiles-dir', project, '--target', 'duckdb', '--target-path', target, '--log-path', target, '--no-partial-parse', '--quiet', '--vars', JSON.stringify(vars)];
  // TELEMETRY_OFF also keeps dbt from writing .user.yml into the (checked-in) profiles folder.
  await promisify(execFile)(join(dirname(DEFAULT_PYTHON), 'dbt'), args, { env: { ...process.env, ...TELEMETRY_OFF } });
  const placesJson = {
    tracker_api: places.trackerApi,
    warehouse: places.warehouse,
    dbt_project: project,
    dbt_manifest: join(target, 'manifest.json'),
    dbt_vars: vars,
    airbyte: { host: places.airbyte.host, port: places.airbyte.port, connection_id: places.airbyte.connectionId },
    datahub_gms: places.datahubGms,
    github_api: places.githubApi,
    inbox: places.inbox,
    alerts: places.alerts,
  };
  writeFileSync(join(dir, 'places.json'), JSON.stringify(placesJson, null, 2));
}
