import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oneBlockSpec } from '../compile/fixtures.ts';
import { until } from '../e2e/platform.ts';
import { freePort } from '../support/postgres-server.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Issue 16: a deploy before Dagster runs took 16.8 s of retries to answer `written`. Nothing
// listens on the environment's port here (a real refused connection, not a fake): the deploy
// answers `written` after one attempt.
describe('a deploy to an environment whose Dagster is not running', () => {
  let t: TestApp;
  let attempts = 0;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    const countingFetch: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    t = await createTestApp('pglite', {
      environments: [writeOnlyEnvironment('development', { graphqlUrl: `http://127.0.0.1:${port}/graphql` })],
      graphql: { fetch: countingFetch },
      // The background reconciler would ask the closed port too: this test counts the deploy's attempts alone.
      reconcileMs: 0,
    });
  });
  afterAll(() => t.close());

  it('answers written with the reason, after a single attempt to reach Dagster, and stays written', async () => {
    const pipeline = await t.call('POST', '/v1/pipelines', oneBlockSpec('before dagster'));
    expect(pipeline.status, JSON.stringify(pipeline.body)).toBe(201);
    const requested = await t.call('POST', `/v1/pipelines/${pipeline.body.id}/deployments`, { environment: 'development' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const done = await until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 30_000, 50);
    expect(done.status, JSON.stringify(done)).toBe('written');
    expect(done.message).toContain(`No Dagster webserver answers at http://127.0.0.1:${port}/graphql (ECONNREFUSED`);
    expect(attempts).toBe(1);

    // A sweep while Dagster is still down asks once, and leaves it written; so does a run, which is refused.
    await t.services.reconciler.sweep();
    expect(attempts).toBe(2);
    expect((await t.call('POST', `/v1/pipelines/${pipeline.body.id}/runs`, {})).status).toBe(409);
    expect(attempts).toBe(3);
    expect((await t.call('GET', `/v1/deployments/${requested.body.id}`)).body.status).toBe('written');
  });
});

// The walkthrough's race: a deploy while `npm run dagster` is still installing the virtualenv. The
// environment's Python cannot run the load check at all; the deploy says so, and does not call the
// version broken.
describe('a deploy to an environment whose Python is not set up yet', () => {
  let t: TestApp;
  beforeAll(async () => {
    const port = await freePort();
    t = await createTestApp('pglite', {
      environments: [writeOnlyEnvironment('development', { graphqlUrl: `http://127.0.0.1:${port}/graphql`, python: 'python3' })],
      reconcileMs: 0,
    });
  });
  afterAll(() => t.close());

  it('fails naming the environment and its Python and what to do, not the version', async () => {
    const pipeline = await t.call('POST', '/v1/pipelines', oneBlockSpec('python not ready'));
    const requested = await t.call('POST', `/v1/pipelines/${pipeline.body.id}/deployments`, { environment: 'development' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const done = await until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 60_000, 50);
    expect(done.status).toBe('failed');
    expect(done.message).toContain('environment "development" cannot load pipelines yet (its Python, python3, lacks Dagster or the block library)');
    expect(done.message).not.toContain('does not load');
    expect(done.error).toContain('wait until it says where Dagster serves, then deploy again');
  }, 90_000);
});
