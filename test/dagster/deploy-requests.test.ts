import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagshipSpec } from '../compile/fixtures.ts';
import { until } from '../e2e/platform.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Deploy requests against environments with no Dagster: what is checked at once, and what the
// worker writes. Loading into a real Dagster is covered in test/e2e.
describe('deploy requests', () => {
  let t: TestApp;
  const staging = writeOnlyEnvironment('staging', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] });
  const production = writeOnlyEnvironment('production', { secrets: ['SOURCE_DB_URL'] });
  beforeAll(async () => {
    t = await createTestApp('pglite', { environments: [staging, production] });
  });
  afterAll(() => t.close());

  const create = async (name: string, spec = flagshipSpec()) => (await t.call('POST', '/v1/pipelines', { ...spec, name })).body.id as string;
  const settled = (id: string) => until(async () => (await t.call('GET', `/v1/deployments/${id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 30_000, 50);

  it('refuses an environment that does not provide a secret the pipeline names, naming the secret and the block config', async () => {
    const id = await create('needs warehouse');
    const res = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'production' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid:deployment');
    expect(res.body.error.issues).toEqual([
      expect.objectContaining({ code: 'secret_not_allowed', path: '/blocks/1/config/connection_secret', message: 'secret WAREHOUSE_URL is not one environment "production" allows its pipelines to use' }),
    ]);
    expect((await t.call('GET', `/v1/pipelines/${id}/deployments`)).body.deployments).toEqual([]);
  });

  it('refuses to deploy what the library cannot run yet (501), storing no deployment', async () => {
    // Every built-in block type compiles; a file-arrival sensor on an S3 bucket does not yet.
    const spec = flagshipSpec();
    spec.sensors.push({ id: 'on_upload', type: 'file_arrival_sensor@1', config: { bucket: 'landing', endpoint_url: 'http://garage:3900' } });
    const id = await create('watching a bucket', spec);
    const res = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging' });
    expect(res.status).toBe(501);
    expect(res.body.error.issues[0]).toMatchObject({ path: '/sensors/0/config/bucket', message: expect.stringContaining('watches a bucket') });
    expect((await t.call('GET', `/v1/pipelines/${id}/deployments`)).body.deployments).toEqual([]);
  });

  it('writes the location and workspace.yaml, says plainly that no Dagster loaded it, and deploys an earlier version in one call', async () => {
    const id = await create('written only');
    const first = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'pending', version: 1, environment: 'staging' });
    const done = await settled(first.body.id);
    expect(done).toMatchObject({ status: 'written', attempts: 1, content_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(done.message).toMatch(/no Dagster GraphQL URL is configured for "staging"/);
    // The pipeline's component folder in its shard, named by its slug.
    const dir = join(staging.workspaceDir, 'locations', done.location_name, done.location_name, 'defs', 'written_only');
    expect(readFileSync(join(staging.workspaceDir, 'workspace.yaml'), 'utf8')).toContain(`location_name: ${done.location_name}`);
    expect(JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8')).pipeline.version).toBe(1);

    await t.call('PATCH', `/v1/pipelines/${id}`, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 500 }]);
    await settled((await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging' })).body.id);
    expect(JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8')).pipeline.version).toBe(2);
    const back = await settled((await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging', version: 1 })).body.id);
    expect(back).toMatchObject({ status: 'written', version: 1, content_hash: done.content_hash });
    expect(JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8')).pipeline.version).toBe(1);

    expect((await t.call('DELETE', `/dagster/pipelines/${id}`)).status).toBe(200);
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(join(staging.workspaceDir, 'workspace.yaml'), 'utf8')).not.toContain(done.location_name);
  });

  it('says there are no runs to show where no Dagster is configured', async () => {
    const id = await create('no runs here');
    await settled((await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging' })).body.id);
    const runs = await t.call('GET', `/v1/pipelines/${id}/runs`);
    expect(runs.status).toBe(503);
    expect(runs.body.error.message).toMatch(/no Dagster GraphQL URL/);
    const launch = await t.call('POST', `/v1/pipelines/${id}/runs`, {});
    expect(launch.status).toBe(503);
  });

  it('lists environments with secret names, never values', async () => {
    const res = await t.call('GET', '/v1/environments');
    expect(res.body.environments.map((e: any) => [e.name, e.dagster_url, e.secrets])).toEqual([
      ['staging', null, ['SOURCE_DB_URL', 'WAREHOUSE_URL']],
      ['production', null, ['SOURCE_DB_URL']],
    ]);
  });
});
