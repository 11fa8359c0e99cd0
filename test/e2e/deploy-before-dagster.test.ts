import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PYTHON, type Environment } from '../../src/dagster/environments.ts';
import { oneBlockSpec } from '../compile/fixtures.ts';
import { startDagster, type DagsterServer } from '../support/dagster-server.ts';
import { freePort } from '../support/postgres-server.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { e2eFolder, until } from './platform.ts';

/**
 * Issue 16: a newcomer deployed before starting Dagster (`npm start`, then `npm run dagster`).
 * The deploy answers `written`; once Dagster starts and loads the workspace, the deployment is
 * live without a second deploy: a run launches, runs list, and the deployment reads `deployed`.
 */
describe('a deploy made before its Dagster starts', () => {
  let t: TestApp;
  let dagster: DagsterServer | undefined;
  let port: number;
  let workspaceDir: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const folder = e2eFolder('constellation-e2e-before-dagster-');
    cleanups.push(folder.remove);
    workspaceDir = join(folder.dir, 'workspace');
    // The port Dagster will serve on, told to the service while nothing listens there.
    port = await freePort();
    const environment: Environment = {
      name: 'development',
      workspaceDir,
      graphqlUrl: `http://127.0.0.1:${port}/graphql`,
      secrets: [],
      python: DEFAULT_PYTHON,
      policy: { approval_required_for_model_deploys: false, allow_destructive: true },
    };
    // No timed sweep: what makes the deployment live below is the run that needs it, not a timer.
    t = await createTestApp('pglite', { environments: [environment], reconcileMs: 0 });
    cleanups.push(() => t.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  it('is written while Dagster is down, and deployed once Dagster loads it, without deploying again', async () => {
    const pipeline = await t.call('POST', '/v1/pipelines', oneBlockSpec('before dagster'));
    expect(pipeline.status, JSON.stringify(pipeline.body)).toBe(201);
    const id = pipeline.body.id as string;
    const requested = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'development' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const deployment = () => t.call('GET', `/v1/deployments/${requested.body.id}`).then((r) => r.body);
    const written = await until(deployment, (d) => !['pending', 'in_progress'].includes(d.status), 60_000, 100);
    expect(written.status, JSON.stringify(written)).toBe('written');
    expect(written.message).toContain('ECONNREFUSED after 1 try');
    // Not live while nothing serves it: a run is refused as before.
    const early = await t.call('POST', `/v1/pipelines/${id}/runs`, {});
    expect(early.status, JSON.stringify(early.body)).toBe(409);

    dagster = await startDagster(join(workspaceDir, 'workspace.yaml'), {}, { port });
    cleanups.push(() => dagster?.stop());

    // No sweep has run (none is timed here): launching needs the live version, and the written
    // one Dagster now serves is found then and there. (The timed sweep reconciles through the
    // same check; test/dagster/written-deployments.test.ts covers what it picks.)
    expect((await deployment()).status).toBe('written');
    const launched = await t.call('POST', `/v1/pipelines/${id}/runs`, {});
    expect(launched.status, `${JSON.stringify(launched.body)}\n${dagster.logs()}`).toBe(201);
    expect(launched.body.version).toBe(1);
    const runs = await t.call('GET', `/v1/pipelines/${id}/runs`);
    expect(runs.status, JSON.stringify(runs.body)).toBe(200);
    expect(runs.body.runs.map((r: { run_id: string }) => r.run_id)).toContain(launched.body.run_id);
    expect(await deployment()).toMatchObject({ status: 'deployed', version: 1, message: expect.stringContaining('is loaded in Dagster') });
    // Still the one deployment made before Dagster started.
    expect((await t.call('GET', `/v1/pipelines/${id}/deployments`)).body.deployments).toHaveLength(1);
  });
});
