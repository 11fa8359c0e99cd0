import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCATION_ENTRY_QUERY, RELOAD_LOCATION } from '../../src/adapters/dagster/documents.ts';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import type { Db } from '../../src/adapters/store/db.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { createServices } from '../../src/services.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startDagster } from '../support/dagster-server.ts';
import { quantile, time, type Row } from './measure.ts';
import { ensurePythonEnv } from './python-env.ts';

const until = async (check: () => Promise<boolean>) => {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
};

/**
 * Our deploy of a new version (compile, atomic write, workspace.yaml, reload, load check) against
 * Dagster's own reload of the same location, alternately, on one real webserver.
 */
export async function deployBench(db: Db, rounds = 5): Promise<Row[]> {
  ensurePythonEnv();
  const workspaceDir = mkdtempSync(join(tmpdir(), 'constellation-bench-ws-'));
  writeFileSync(join(workspaceDir, 'workspace.yaml'), 'load_from: []\n');
  const dagster = await startDagster(join(workspaceDir, 'workspace.yaml'));
  const env = { name: 'development', workspaceDir, graphqlUrl: dagster.graphqlUrl, secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'], python: DEFAULT_PYTHON, policy: { approval_required_for_model_deploys: false, allow_destructive: true } };
  const services = createServices(db, { environments: new Map([['development', env]]), pollMs: 50 });
  await services.catalogRepo.upsert(loadManifests());
  services.worker.start();
  const client = new DagsterGraphqlClient(dagster.graphqlUrl);
  try {
    const view = await services.pipelines.create(LOCAL_PRINCIPAL, flagshipSpec());
    const id = view.pipeline.id;
    const deployOnce = async () => {
      const d = await services.deployments.request(LOCAL_PRINCIPAL, id, { environment: 'development' });
      await until(async () => !['pending', 'in_progress'].includes((await services.deploymentRepo.get(LOCAL_PRINCIPAL, d.id))!.status));
      const done = (await services.deploymentRepo.get(LOCAL_PRINCIPAL, d.id))!;
      if (done.status !== 'deployed') throw new Error(`bench deploy ${done.status}: ${done.error ?? done.message}`);
      return done.location_name;
    };
    const location = await deployOnce(); // the first load of a new location is not what is compared
    const reload = async () => {
      await client.request(RELOAD_LOCATION, { name: location });
      await until(async () => (await client.request(LOCATION_ENTRY_QUERY, { name: location })).workspaceLocationEntryOrError.loadStatus === 'LOADED');
    };
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await services.pipelines.patch(LOCAL_PRINCIPAL, id, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 1000 + i }]);
      ours.push(await time(deployOnce));
      theirs.push(await time(reload));
    }
    return [
      { measure: `deploy a new version to a real Dagster, median of ${rounds}`, value: quantile(ours, 0.5), baseline: "Dagster's own reload of that location", baselineValue: quantile(theirs, 0.5), ratio: 'times', target: '<= 1.5x' },
    ];
  } finally {
    await services.worker.stop();
    await dagster.stop();
  }
}

