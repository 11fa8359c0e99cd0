import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagshipSpec } from '../compile/fixtures.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Pause and resume without a Dagster: what is refused, and what is recorded for the next deploy.
// With a real Dagster (Dagster told at once, and a redeploy keeping the pause): test/e2e/triggers.test.ts.

describe('POST /v1/pipelines/{id}/triggers/pause and /resume', () => {
  let t: TestApp;
  let id: string;
  beforeAll(async () => {
    t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development'), writeOnlyEnvironment('staging')] });
    const res = await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name: 'paused customers' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    id = res.body.id;
  });
  afterAll(() => t.close());

  it('asks which environment for a pipeline deployed nowhere', async () => {
    const res = await t.call('POST', `/v1/pipelines/${id}/triggers/pause`, {});
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/environment' })]);
    expect(res.body.error.hint).toContain('development, staging');
  });

  it('records the state for an environment Dagster cannot be told in, and says so', async () => {
    const paused = await t.call('POST', `/v1/pipelines/${id}/triggers/pause`, { environment: 'staging' });
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body).toEqual({
      pipeline_id: id,
      paused: true,
      environments: [{ environment: 'staging', applied: false, message: expect.stringContaining('the next deploy starts the triggers paused'), triggers: [] }],
    });
    const resumed = await t.call('POST', `/v1/pipelines/${id}/triggers/resume`, { environment: 'staging' });
    expect(resumed.body).toMatchObject({ paused: false, environments: [{ environment: 'staging', applied: false, message: expect.stringContaining('resumed') }] });
  });

  it('refuses an environment that is not configured, and an unknown pipeline', async () => {
    const env = await t.call('POST', `/v1/pipelines/${id}/triggers/pause`, { environment: 'prod' });
    expect(env.status).toBe(400);
    expect(env.body.error.code).toBe('invalid:environment');
    const missing = await t.call('POST', '/v1/pipelines/7f3c1a52-9d4e-4b8a-8c21-5e6f7a8b9c0d/triggers/resume', {});
    expect(missing.status).toBe(404);
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await t.call('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/pipelines/{id}/triggers/pause'].post.responses['200']).toBeDefined();
    expect(doc.paths['/v1/pipelines/{id}/triggers/resume'].post.responses['200']).toBeDefined();
  });
});
