import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagshipSpec } from '../compile/fixtures.ts';
import { freshDbUrl } from '../support/databases.ts';
import { freePort } from '../support/postgres-server.ts';
import { stopOnExit } from '../support/server-processes.ts';
import { startPlatform, until, type Platform } from './platform.ts';
import { SYSTEM_LOCATION } from '../../src/dagster/workspace.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** The service as its own process (`node src/server.ts`), on Postgres, as production runs it. */
async function startService(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(ROOT, 'src/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Killed with this test process whatever ends it (vitest's SIGTERM to a worker, Ctrl-C).
  child.once('exit', stopOnExit(() => child.kill('SIGKILL'), `tr '\\0' ' ' < /proc/${child.pid}/cmdline 2>/dev/null | grep -qF 'src/server.ts' && kill -9 ${child.pid}`));
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => fetch(`${url}/health`).then((r) => r.ok, () => false),
    (ok) => ok || child.exitCode !== null,
    60_000,
    100,
  );
  if (child.exitCode !== null) throw new Error(`the service did not start:\n${output}`);
  return { url, child, output: () => output };
}

/**
 * A service killed (SIGKILL) in the middle of a deploy leaves the deployment in progress under a
 * lease nobody renews; another process takes it over once the lease expires and finishes it.
 */
describe('a deploy whose service is killed mid-way (two processes on Postgres)', () => {
  let platform: Platform;
  let db: pg.Client;
  let env: Record<string, string>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    platform = await startPlatform({ customers: 1 });
    const databaseUrl = await freshDbUrl();
    const dir = mkdtempSync(join(tmpdir(), 'constellation-crash-'));
    writeFileSync(
      join(dir, 'environments.yaml'),
      `environments:\n  development:\n    workspace_dir: ${JSON.stringify(platform.environment.workspaceDir)}\n` +
        `    graphql_url: ${platform.environment.graphqlUrl}\n    secrets: [SOURCE_DB_URL, WAREHOUSE_URL]\n`,
    );
    env = { DATABASE_URL: databaseUrl, DATA_DIR: dir, DAGSTER_ENVIRONMENTS: join(dir, 'environments.yaml'), DEPLOY_LEASE_SECONDS: '3' };
    db = new pg.Client({ connectionString: databaseUrl });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await db?.end();
    await platform?.stop();
  });

  it('is resumed by another process once the lease expires, never left in progress', async () => {
    const first = await startService(env);
    children.push(first.child);
    await db.connect();
    const created = await fetch(`${first.url}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(flagshipSpec()) });
    const pipeline = (await created.json()) as { id: string };
    expect(created.status, JSON.stringify(pipeline)).toBe(201);

    const requested = await fetch(`${first.url}/v1/pipelines/${pipeline.id}/deployments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const deployment = (await requested.json()) as { id: string };
    expect(requested.status, JSON.stringify(deployment)).toBe(202);

    const row = async () => (await db.query('SELECT status, attempts, lease_owner, error FROM deployments WHERE id = $1', [deployment.id])).rows[0];
    const claimed = await until(row, (r) => r.status !== 'pending', 30_000, 10);
    expect(claimed.status).toBe('in_progress');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    // Killed before it could finish: the deployment is stranded until its lease runs out.
    const stranded = await row();
    expect(stranded).toMatchObject({ status: 'in_progress', attempts: 1, lease_owner: claimed.lease_owner });

    const second = await startService(env);
    children.push(second.child);
    const finished = await until(row, (r) => r.status !== 'in_progress', 120_000, 200);
    expect(finished.status, `${JSON.stringify(finished)}\n${second.output()}`).toBe('deployed');
    expect(finished.attempts).toBe(2);
    expect(finished.lease_owner).toBeNull();

    const data = await (
      await fetch(platform.environment.graphqlUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }' }) })
    ).json() as any;
    // The environment's system location (source inspection), and the local org's first shard, holding the pipeline.
    expect(data.data.workspaceOrError.locationEntries).toEqual([
      { name: SYSTEM_LOCATION, locationOrLoadError: { __typename: 'RepositoryLocation' } },
      { name: 'local_shard_1', locationOrLoadError: { __typename: 'RepositoryLocation' } },
    ]);
    // Whatever the kill interrupted, nothing of it is left: no half-written or kept folders.
    const leftovers = ['.staging', '.previous', '.trash'].flatMap((sub) => {
      const dir = join(platform.environment.workspaceDir, sub);
      return existsSync(dir) ? readdirSync(dir).map((name) => `${sub}/${name}`) : [];
    });
    expect(leftovers).toEqual([]);
    second.child.kill('SIGTERM');
  });
});
