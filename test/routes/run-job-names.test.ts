import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { locationNameFor } from '../../src/compile/compile-pipeline.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { freePort } from '../support/postgres-server.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// People and models name a job by its spec id; in a shard Dagster knows it as
// "<pipeline_slug>__<id>", and in a location from before shards by the id alone. The stand-in
// answers as Dagster's webserver does and records what it was asked to launch; a real Dagster
// runs these names in the end-to-end tests.

describe('jobs are named by spec id and launched under their Dagster name', () => {
  let t: TestApp;
  let dagster: Server;
  const launched: Array<{ repositoryLocationName: string; jobName: string }> = [];
  let runTags: Array<{ key: string; value: string }> = [];

  beforeAll(async () => {
    const port = await freePort();
    dagster = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk)).on('end', () => {
        const { query, variables } = JSON.parse(body);
        const answer = (data: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
        if (query.includes('launchRun')) {
          launched.push(variables.params.selector);
          runTags = variables.params.executionMetadata.tags;
          return answer({ launchRun: { __typename: 'LaunchRunSuccess', run: { runId: `run-${launched.length}`, status: 'QUEUED' } } });
        }
        const { jobName } = launched.at(-1)!;
        return answer({ runOrError: { __typename: 'Run', runId: variables.runId, status: 'QUEUED', jobName, startTime: null, endTime: null, updateTime: null, tags: runTags } });
      });
    });
    await new Promise<void>((r) => dagster.listen(port, '127.0.0.1', r));
    t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'], graphqlUrl: `http://127.0.0.1:${port}/graphql` })] });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => dagster?.close(r));
  });

  /** A pipeline live in `location`, as a finished deploy leaves it. */
  async function liveIn(name: string, location: (id: string) => string, jobs: object = {}): Promise<string> {
    const created = await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name, ...jobs });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await t.db.query(
      `INSERT INTO deployments (id, org_id, pipeline_id, version, environment, status, location_name, requested_by, finished_at)
       VALUES ($1, $2, $3, 1, 'development', 'deployed', $4, $5, now())`,
      [randomUUID(), LOCAL_PRINCIPAL.orgId, id, location(id), LOCAL_PRINCIPAL.userId],
    );
    return id;
  }

  it('in a shard: the default job and a declared one, each under "<pipeline_slug>__<id>", shown by id', async () => {
    const nightly = { jobs: [{ id: 'nightly', blocks: ['extract_customers', 'load_customers'] }] };
    const id = await liveIn('Sales → Warehouse', () => 'local_shard_1', nightly);
    const byDefault = await t.call('POST', `/v1/pipelines/${id}/runs`, {});
    expect(byDefault.status, JSON.stringify(byDefault.body)).toBe(201);
    expect(launched.at(-1)).toEqual({ repositoryLocationName: 'local_shard_1', repositoryName: '__repository__', jobName: 'sales_warehouse__all_blocks' });
    expect(byDefault.body.job).toBe('all_blocks');

    const named = await t.call('POST', `/v1/pipelines/${id}/runs`, { job: 'nightly' });
    expect(launched.at(-1)).toMatchObject({ jobName: 'sales_warehouse__nightly' });
    expect(named.body.job).toBe('nightly');

    // A Dagster name is not a job id.
    const wrong = await t.call('POST', `/v1/pipelines/${id}/runs`, { job: 'sales_warehouse__nightly' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'invalid:job', hint: 'Jobs: nightly, all_blocks.' });
  });

  it('in a location from before shards: by spec id alone, as its definitions.py named them', async () => {
    const id = await liveIn('Legacy sync', locationNameFor);
    const run = await t.call('POST', `/v1/pipelines/${id}/runs`, { job: 'all_blocks' });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect(launched.at(-1)).toMatchObject({ repositoryLocationName: locationNameFor(id), jobName: 'all_blocks' });
    expect(run.body.job).toBe('all_blocks');
  });

  it('keeps the slug through a rename, so a renamed pipeline\'s jobs keep their Dagster names', async () => {
    const id = await liveIn('Before the rename', () => 'local_shard_1');
    const renamed = await t.call('PUT', `/v1/pipelines/${id}`, { spec: { ...flagshipSpec(), name: 'After the rename' } });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    // The live deployment is version 1, compiled with the slug the pipeline was created with.
    await t.call('POST', `/v1/pipelines/${id}/runs`, {});
    expect(launched.at(-1)).toMatchObject({ jobName: 'before_the_rename__all_blocks' });
    const compiled = await t.call('POST', `/v1/pipelines/${id}/compile`);
    expect(compiled.body).toMatchObject({ version: 2, component_name: 'before_the_rename', dagster_jobs: { all_blocks: 'before_the_rename__all_blocks' } });
  });
});
