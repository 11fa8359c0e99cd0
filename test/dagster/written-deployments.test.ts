import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import type { DeploymentRepo, DeploymentStatus } from '../../src/dagster/deployment-repo.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { STORE_KINDS } from '../support/databases.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// The store's half of reconciling: which written deployments a sweep looks at, and the
// conditional update that moves one to deployed once its Dagster loaded it (the Dagster half is
// covered by test/e2e/deploy-before-dagster.test.ts).
describe.each(STORE_KINDS)('written deployments becoming deployed, on %s', (kind) => {
  let t: TestApp;
  let repo: DeploymentRepo;
  let pipelineId: string;
  beforeAll(async () => {
    // No worker and no background sweep: these tests set statuses by hand.
    t = await createTestApp(kind, { deployWorkers: 0, reconcileMs: 0 });
    repo = t.services.deploymentRepo;
    pipelineId = (await t.call('POST', '/v1/pipelines', flagshipSpec())).body.id;
    await t.call('PATCH', `/v1/pipelines/${pipelineId}`, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 500 }]);
  });
  afterAll(() => t.close());

  let seq = 0;
  /**
   * A deployment of the pipeline, finished with `status`, created a second after every earlier
   * one (two made within one clock tick would be ordered by their random ids).
   */
  const deployment = async (status: DeploymentStatus, version = 1, environment = 'development') => {
    const row = await repo.create(LOCAL_PRINCIPAL, { pipelineId, version, environment, locationName: 'local_shard_1' });
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, ++seq));
    await t.db.query(`UPDATE deployments SET status = $2, created_at = $3, finished_at = $3 WHERE id = $1`, [row.id, status, at]);
    return row;
  };
  const statusOf = async (id: string) => (await repo.statuses([id])).get(id);
  const fresh = () => t.db.query(`DELETE FROM deployments WHERE pipeline_id = $1`, [pipelineId]);

  it('moves a written deployment to deployed, with the message, once', async () => {
    await fresh();
    const written = await deployment('written');
    const promoted = await repo.promoteWritten(written.id, 1, 'loaded');
    expect(promoted).toMatchObject({ id: written.id, status: 'deployed', message: 'loaded' });
    expect(await repo.live(LOCAL_PRINCIPAL.orgId, pipelineId, 'development')).toMatchObject({ id: written.id });
    expect(await repo.promoteWritten(written.id, 1, 'again')).toBeNull();
  });

  it('lets one of two instances promoting at once win', async () => {
    await fresh();
    const written = await deployment('written');
    const results = await Promise.all([repo.promoteWritten(written.id, 1, 'a'), repo.promoteWritten(written.id, 1, 'b')]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('does not promote another version than the one checked', async () => {
    await fresh();
    const written = await deployment('written', 2);
    expect(await repo.promoteWritten(written.id, 1, 'loaded')).toBeNull();
    expect(await statusOf(written.id)).toBe('written');
  });

  it.each(['pending', 'in_progress', 'written', 'deployed'] as const)('never promotes one a newer %s deployment replaces', async (newer) => {
    await fresh();
    const written = await deployment('written', 1);
    await deployment(newer, 2);
    expect(await repo.writtenIn(['development'])).not.toContainEqual(expect.objectContaining({ id: written.id }));
    expect(await repo.promoteWritten(written.id, 1, 'loaded')).toBeNull();
    expect(await statusOf(written.id)).toBe('written');
  });

  it('promotes one whose newer deployment failed (its files stayed in place), and lists it for a sweep', async () => {
    await fresh();
    const written = await deployment('written', 1);
    await deployment('failed', 2);
    expect((await repo.writtenIn(['development'])).map((d) => d.id)).toEqual([written.id]);
    expect(await repo.promoteWritten(written.id, 1, 'loaded')).toMatchObject({ status: 'deployed' });
  });

  it('lists only the environments asked for', async () => {
    await fresh();
    await deployment('written', 1, 'staging');
    expect(await repo.writtenIn(['development'])).toEqual([]);
    expect(await repo.writtenIn([])).toEqual([]);
  });
});
