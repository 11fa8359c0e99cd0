import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import type { Db } from '../../src/adapters/store/db.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { createServices } from '../../src/services.ts';
import { NO_LIMITS } from '../../src/auth/limits.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startDagster } from '../support/dagster-server.ts';
import { benchEnvironment, deployAndWait, reloadUntilLoaded } from './bench-dagster.ts';
import { quantile, time, type Row } from './measure.ts';
import { ensurePythonEnv } from './python-env.ts';

/**
 * Our deploy of a new version (compile, atomic write, workspace.yaml, reload, load check) against
 * Dagster's own reload of the same location, alternately, on one real webserver.
 */
export async function deployBench(db: Db, rounds = 5): Promise<Row[]> {
  ensurePythonEnv();
  const workspaceDir = mkdtempSync(join(tmpdir(), 'constellation-bench-ws-'));
  writeFileSync(join(workspaceDir, 'workspace.yaml'), 'load_from: []\n');
  const dagster = await startDagster(join(workspaceDir, 'workspace.yaml'));
  const env = benchEnvironment(workspaceDir, dagster.graphqlUrl, ['SOURCE_DB_URL', 'WAREHOUSE_URL']);
  const services = createServices(db, { limits: NO_LIMITS, environments: new Map([['development', env]]), pollMs: 50 });
  await services.catalogRepo.upsert(loadManifests());
  services.worker.start();
  const client = new DagsterGraphqlClient(dagster.graphqlUrl);
  try {
    const view = await services.pipelines.create(LOCAL_PRINCIPAL, flagshipSpec());
    const id = view.pipeline.id;
    const location = await deployAndWait(services, id); // the first load of a new location is not what is compared
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await services.pipelines.patch(LOCAL_PRINCIPAL, id, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 1000 + i }]);
      ours.push(await time(() => deployAndWait(services, id)));
      theirs.push(await time(() => reloadUntilLoaded(client, location)));
    }
    return [
      { measure: `deploy a new version to a real Dagster, median of ${rounds}`, value: quantile(ours, 0.5), baseline: "Dagster's own reload of that location", baselineValue: quantile(theirs, 0.5), ratio: 'times', target: '<= 1.5x' },
    ];
  } finally {
    await services.worker.stop();
    await dagster.stop();
  }
}
