import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpClient } from '../support/surfaces.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { startPlatform, type Platform } from './platform.ts';

const CONFIG = { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' };
const COLUMNS = [
  { name: 'id', type: 'integer', source_type: 'bigint', nullable: false },
  { name: 'name', type: 'string', source_type: 'text', nullable: false },
  { name: 'email', type: 'string', source_type: 'text', nullable: true },
  { name: 'score', type: 'float', source_type: 'double precision', nullable: true },
  { name: 'created_at', type: 'timestamp', source_type: 'timestamp without time zone', nullable: false },
  { name: 'updated_at', type: 'timestamp', source_type: 'timestamp without time zone', nullable: false },
];

/**
 * Issue 17's third "done means": the flagship's Postgres source inspected through a real Dagster
 * webserver and daemon, from the route and the tool, and the secret nowhere but in Dagster's own
 * environment: not in an answer, a log line of the service, or a row of its store. The
 * environment is fresh: Dagster started on an empty workspace.yaml and no pipeline is deployed
 * (look before you build), so the first inspection loads the system location.
 */
describe('source inspection of the flagship Postgres source, on a real Dagster', () => {
  let platform: Platform;
  let t: TestApp;
  let secret: string;
  let password: string;
  const answers: string[] = [];

  beforeAll(async () => {
    // The test server trusts every login, so the secret carries a password of the test's own
    // making (the server's, when its URL has one): the value to look for.
    platform = await startPlatform({ customers: 5, sourcePassword: 'e2e-Inspect-Pw-5b1c9' });
    secret = platform.sourceSecret;
    password = new URL(secret).password;
    expect(password).not.toBe('');
    t = await createTestApp('postgres', { environments: [platform.environment] });
  });
  afterAll(async () => {
    await t?.close();
    await platform?.stop();
  });

  it('lists customers with its columns and a few rows through the route, before any pipeline is deployed', async () => {
    const workspaceYaml = () => readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8');
    expect(workspaceYaml()).toBe('load_from: []\n');
    const res = await t.call('POST', '/v1/environments/development/inspect-source', { block_type: 'postgres_incremental_extract', config: CONFIG, sample_rows: 3 });
    answers.push(JSON.stringify(res.body));
    expect(res.status, `${JSON.stringify(res.body)}\n${platform.dagster.logs()}`).toBe(200);
    expect(res.body).toMatchObject({ ok: true, environment: 'development', block_type: 'postgres_incremental_extract@1', table: 'public.customers', columns: COLUMNS });
    expect(res.body.tables).toContain('public.customers');
    expect(res.body.rows).toHaveLength(3);
    for (const row of res.body.rows) expect(row[1]).toBe(`customer ${row[0]}`);
    // It ran in the system location, the only one there is: added to workspace.yaml and loaded for it.
    expect(workspaceYaml()).toContain('location_name: constellation_system');
    expect(await t.db.query('SELECT 1 FROM deployments')).toEqual([]);
    const gql = await fetch(platform.dagster.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ runOrError(runId: "${res.body.run_id}") { ... on Run { repositoryOrigin { repositoryLocationName } } } }` }) });
    expect((await gql.json()).data.runOrError.repositoryOrigin.repositoryLocationName).toBe('constellation_system');
  });

  it('answers the same through the tool, and names a missing table without the secret', async () => {
    const mcp = await mcpClient(t);
    try {
      const call = async (args: object) => {
        const result = (await mcp.client.callTool({ name: 'inspect_source', arguments: { environment: 'development', block_type: 'postgres_incremental_extract', config: CONFIG, ...args } })) as any;
        answers.push(JSON.stringify(result));
        expect(result.isError, JSON.stringify(result)).toBeFalsy();
        return result.structuredContent;
      };
      expect(await call({ sample_rows: 2 })).toMatchObject({ ok: true, columns: COLUMNS, rows: [expect.any(Array), expect.any(Array)] });
      const missing = await call({ table: 'public.clients' });
      expect(missing).toMatchObject({ ok: false, error: expect.stringContaining('table "public.clients" does not exist in the database in SOURCE_DB_URL') });
    } finally {
      await mcp.close();
    }
  });

  it('keeps the secret out of every answer, every log line of the service and every row of its store', async () => {
    expect(answers).toHaveLength(3);
    const store: string[] = [];
    const tables = await t.db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    expect(tables.length).toBeGreaterThan(5);
    for (const { table_name } of tables) store.push(JSON.stringify(await t.db.query(`SELECT * FROM "${table_name}"`)));
    const logs = t.logs.map((line) => JSON.stringify(line));
    expect(logs.length).toBeGreaterThan(0);
    for (const [what, texts] of [['answers', answers], ['service logs', logs], ['store rows', store]] as const) {
      for (const text of texts) {
        expect(text, what).not.toContain(password);
        expect(text, what).not.toContain(secret);
      }
    }
    // Nor did Dagster keep it: its run storage holds the run config, which names the variable only.
    const files = readdirSync(platform.dagster.home, { recursive: true, encoding: 'utf8' }).map((f) => join(platform.dagster.home, f)).filter((f) => statSync(f).isFile());
    expect(files.filter((f) => readFileSync(f).includes(password))).toEqual([]);
  });
});
