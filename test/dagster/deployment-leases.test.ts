import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { DeploymentRepo } from '../../src/dagster/deployment-repo.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { openDb } from '../../src/adapters/store/open-db.ts';
import { ensureLocalPrincipal } from '../../src/auth/principal.ts';
import { PipelineRepo } from '../../src/pipelines/pipeline-repo.ts';
import { STORE_KINDS, freshDbUrl } from '../support/databases.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe.each(STORE_KINDS)('deployment leases on %s', (kind) => {
  let t: TestApp;
  let repo: DeploymentRepo;
  const pipelines: string[] = [];
  beforeAll(async () => {
    // No worker: these tests take leases by hand.
    t = await createTestApp(kind, { deployWorkers: 0 });
    repo = t.services.deploymentRepo;
    for (const name of ['first', 'second']) {
      const res = await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name });
      pipelines.push(res.body.id);
    }
  });
  afterAll(() => t.close());

  const request = (pipelineId: string, environment = 'development') =>
    repo.create(LOCAL_PRINCIPAL, { pipelineId, version: 1, environment, locationName: 'pipeline_x' });
  const expire = (id: string) => t.db.query(`UPDATE deployments SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
  const drain = async () => {
    await t.db.query(`UPDATE deployments SET status = 'failed', lease_owner = NULL WHERE status IN ('pending', 'in_progress')`);
  };

  it('serializes deploys of one pipeline and environment, oldest first, while others go in parallel', async () => {
    await drain();
    const a1 = await request(pipelines[0]!);
    const a2 = await request(pipelines[0]!);
    const b1 = await request(pipelines[1]!);
    const first = await repo.claimNext('worker-a', 30, 3);
    const second = await repo.claimNext('worker-b', 30, 3);
    expect(first?.id).toBe(a1.id);
    expect(second?.id).toBe(b1.id);
    expect(await repo.claimNext('worker-c', 30, 3)).toBeNull(); // a2 waits for a1
    expect(await repo.finish(a1.id, 'worker-a', { status: 'deployed', message: 'ok' })).toBe(true);
    expect((await repo.claimNext('worker-c', 30, 3))?.id).toBe(a2.id);
  });

  it('gives a deployment whose lease expired to another worker, and the old holder can no longer finish it', async () => {
    await drain();
    const d = await request(pipelines[0]!);
    const claimed = await repo.claimNext('dead-worker', 30, 3);
    expect(claimed).toMatchObject({ id: d.id, status: 'in_progress', attempts: 1, lease_owner: 'dead-worker' });
    expect(await repo.claimNext('other', 30, 3)).toBeNull(); // lease still live
    await expire(d.id);
    const resumed = await repo.claimNext('other', 30, 3);
    expect(resumed).toMatchObject({ id: d.id, attempts: 2, lease_owner: 'other' });
    expect(await repo.renew(d.id, 'dead-worker', 30)).toBe(false);
    expect(await repo.finish(d.id, 'dead-worker', { status: 'deployed', message: 'late' })).toBe(false);
    expect(await repo.renew(d.id, 'other', 30)).toBe(true);
    expect(await repo.finish(d.id, 'other', { status: 'deployed', message: 'done' })).toBe(true);
    expect((await repo.get(LOCAL_PRINCIPAL, d.id))?.status).toBe('deployed');
  });

  it('fails a deployment whose workers keep dying instead of retrying it forever', async () => {
    await drain();
    const d = await request(pipelines[1]!);
    for (let attempt = 1; attempt <= 2; attempt++) {
      expect((await repo.claimNext(`w${attempt}`, 30, 2))?.attempts).toBe(attempt);
      await expire(d.id);
    }
    expect(await repo.claimNext('w3', 30, 2)).toBeNull();
    const row = await repo.get(LOCAL_PRINCIPAL, d.id);
    expect(row).toMatchObject({ status: 'failed', lease_owner: null });
    expect(row?.error).toMatch(/stopped 2 times/);
  });
});

describe('deployment leases across connections (postgres)', () => {
  it('never hands one deployment to two workers claiming at the same moment', async () => {
    const url = await freshDbUrl();
    // Two pools on one database: two processes' worth of connections racing for the same rows.
    const a: Db = await openDb({ databaseUrl: url });
    const b: Db = await openDb({ databaseUrl: url });
    try {
      await ensureLocalPrincipal(a);
      const repoA = new DeploymentRepo(a);
      const repoB = new DeploymentRepo(b);
      for (let i = 0; i < 6; i++) {
        const p = await new PipelineRepo(a).create(LOCAL_PRINCIPAL, { ...flagshipSpec(), name: `p${i}` }, { kind: 'spec' });
        await repoA.create(LOCAL_PRINCIPAL, { pipelineId: p!.id, version: 1, environment: 'development', locationName: 'x' });
      }
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? repoA : repoB).claimNext(`w${i}`, 30, 3)));
      const got = claims.filter((c) => c !== null).map((c) => c.id);
      expect(got).toHaveLength(6);
      expect(new Set(got).size).toBe(6);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
