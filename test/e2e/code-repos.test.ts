import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPolicyFromConfig } from '../../src/code-repos/repo-policy.ts';
import { GitFixture, greetingModule, repoManifest } from '../code-repos/git-fixture.ts';
import { VENV_BIN, type DagsterServer } from '../support/dagster-server.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { deployToDevelopment, e2eFolder, launchAndWait, startDagsterFor } from './platform.ts';

// Bring your own blocks, end to end: a git repository made here with two block types (one broken)
// compiles into one registered type and one clear error; pipelines using two commits of the good
// one deploy into one shard of a real Dagster webserver and daemon, and both run.
describe('a block type from a code repository, deployed and run in Dagster', () => {
  let t: TestApp;
  let dagster: DagsterServer;
  let repo: GitFixture;
  const folder = e2eFolder('constellation-e2e-repo-', ['data']);

  /** POST /dagster/compile/ and the outcome once its background work is done. */
  async function compile() {
    const started = await t.call('POST', '/dagster/compile/', { repo_url: repo.url, branch: 'main' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body).toEqual({ compile_id: expect.any(String), message: 'Code compilation initiated.', status: 'in_progress' });
    await t.services.codeRepos.idle();
    return (await t.call('GET', `/dagster/compile/${started.body.compile_id}`)).body;
  }

  /** A pipeline: the repository block's greetings into a DuckDB table of its own file. */
  async function greetingsPipeline(name: string, type: string, file: string) {
    const created = await t.call('POST', '/v1/pipelines', {
      name,
      blocks: [
        { id: 'greet', type, config: { names: ['ada', 'grace'] } },
        { id: 'store', type: 'duckdb_load@1', config: { database_path: join(folder.dir, 'data', file), table: 'greetings', mode: 'replace' } },
      ],
      edges: [{ from: { block: 'greet', port: 'rows' }, to: { block: 'store', port: 'rows' } }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id as string;
  }

  const greetingsIn = (file: string) =>
    JSON.parse(
      execFileSync(join(VENV_BIN, 'python'), ['-c', 'import duckdb, json, sys; print(json.dumps(duckdb.connect(sys.argv[1], read_only=True).execute("SELECT text FROM greetings ORDER BY id").fetchall()))', join(folder.dir, 'data', file)], { encoding: 'utf8' }),
    ) as string[][];

  beforeAll(async () => {
    const started = await startDagsterFor(folder.dir, {});
    dagster = started.dagster;
    t = await createTestApp('pglite', { environments: [started.environment], codeRepos: { policy: repoPolicyFromConfig({ CODE_REPO_ALLOW_FILE: true, CODE_REPO_ALLOWED_HOSTS: undefined }) } });
    repo = new GitFixture('etl-blocks.git');
  });
  afterAll(async () => {
    await t?.close();
    await dagster?.stop();
    repo?.remove();
    folder.remove();
  });

  let first: { type: string; pipeline: string };

  it('compiles one good and one broken block type into one registered type and one error, and runs the good one', async () => {
    repo.commit({
      'blocks/greeting_rows.json': repoManifest('greeting_rows', 'greeting:make_rows'),
      'blocks/broken_rows.json': repoManifest('broken_rows', 'broken:make_rows'),
      'python/greeting.py': greetingModule('hello'),
      'python/broken.py': 'import no_such_library_here\n',
      'requirements.txt': 'duckdb>=1.0\n',
    });
    const outcome = await compile();
    expect(outcome.status, JSON.stringify(outcome)).toBe('completed');
    expect(outcome.registered).toEqual(['etl_blocks__greeting_rows@1']);
    expect(outcome.errors).toHaveLength(1);
    expect(JSON.stringify(outcome.errors[0])).toMatch(/broken_rows/);
    expect(JSON.stringify(outcome.errors[0])).toMatch(/no_such_library_here/);

    const pipeline = await greetingsPipeline('greetings v1', 'etl_blocks__greeting_rows@1', 'v1.duckdb');
    const deployment = await deployToDevelopment(t, pipeline);
    expect(deployment.status, `${JSON.stringify(deployment)}\n${dagster.logs()}`).toBe('deployed');
    const run = await launchAndWait(t, pipeline);
    expect(run.status, `${JSON.stringify(run)}\n${dagster.logs()}`).toBe('completed');
    expect(greetingsIn('v1.duckdb')).toEqual([['hello ada'], ['hello grace']]);
    first = { type: 'etl_blocks__greeting_rows@1', pipeline };
  });

  it('a newer commit registers version 2 beside it: both pipelines live in one shard and each runs its own commit', async () => {
    repo.commit({ 'python/greeting.py': greetingModule('welcome') });
    const outcome = await compile();
    expect(outcome.registered).toEqual(['etl_blocks__greeting_rows@2']);

    const pipeline = await greetingsPipeline('greetings v2', 'etl_blocks__greeting_rows@2', 'v2.duckdb');
    const deployment = await deployToDevelopment(t, pipeline);
    expect(deployment.status, `${JSON.stringify(deployment)}\n${dagster.logs()}`).toBe('deployed');
    const firstDeployment = (await t.call('GET', `/v1/pipelines/${first.pipeline}/deployments`)).body.deployments[0];
    expect(deployment.location_name).toBe(firstDeployment.location_name);

    for (const [id, file, word] of [[pipeline, 'v2.duckdb', 'welcome'], [first.pipeline, 'v1.duckdb', 'hello']] as const) {
      const run = await launchAndWait(t, id);
      expect(run.status, `${JSON.stringify(run)}\n${dagster.logs()}`).toBe('completed');
      expect(greetingsIn(file)).toEqual([[`${word} ada`], [`${word} grace`]]);
    }
  });
});
