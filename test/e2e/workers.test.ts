import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/adapters/store/open-db.ts';
import { ApiKeys } from '../../src/auth/api-keys.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { freshDbUrl } from '../support/databases.ts';
import { freePort } from '../support/postgres-server.ts';
import { sh, stopOnExit } from '../support/server-processes.ts';

/**
 * The service in the real Workers runtime: `wrangler dev --local` runs src/worker.ts in workerd
 * (offline; it logs a failed fetch of Cloudflare's metadata and carries on), on a database of the
 * test's Postgres, with the Durable Object KV that workerd runs locally.
 */
const ROOT = join(import.meta.dirname, '../..');

describe('the service on Cloudflare Workers (workerd through wrangler dev)', () => {
  let base = '';
  let key = '';
  let wrangler: ChildProcess;
  let output = '';
  let release = () => {};
  const state = mkdtempSync(join(tmpdir(), 'constellation-workers-'));

  const call = async (method: string, path: string, body?: unknown, auth = true) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  beforeAll(async () => {
    const databaseUrl = await freshDbUrl();
    // The key is issued as an admin issues one (npm run key -- create) on the Postgres the Worker shares.
    const db = await openDb({ databaseUrl });
    key = (await new ApiKeys(db).createForIdentity({ org: 'workers', user: 'ada', role: 'admin', kind: 'person' })).key;
    await db.close();

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--local', '--persist-to', state, '--var', `DATABASE_URL:${databaseUrl}`, '--log-level', 'warn'];
    wrangler = spawn(join(ROOT, 'node_modules/.bin/wrangler'), args, {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    wrangler.stdout!.on('data', (chunk) => (output += chunk));
    wrangler.stderr!.on('data', (chunk) => (output += chunk));
    release = stopOnExit(() => process.kill(-wrangler.pid!, 'SIGTERM'), `kill -TERM -${sh(String(wrangler.pid))}`);

    // Up when /health answers: the first request migrates the database and loads the catalog.
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited (${wrangler.exitCode}):\n${output}`);
      const health = await fetch(`${base}/health`).then((r) => (r.ok ? r.json() : null), () => null);
      if (health) break;
      if (Date.now() > deadline) throw new Error(`wrangler dev did not answer /health in 150 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  afterAll(async () => {
    if (wrangler?.exitCode === null) {
      const exited = new Promise((r) => wrangler.once('exit', r));
      process.kill(-wrangler.pid!, 'SIGTERM');
      await exited;
    }
    release();
    rmSync(state, { recursive: true, force: true });
  });

  it('answers health from Postgres with the bundled catalog', async () => {
    const health = await call('GET', '/health', undefined, false);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', store: 'postgres', block_types: 21 });
  });

  it('refuses anonymous requests: REST and MCP', async () => {
    const rest = await call('GET', '/v1/block-types?q=postgres', undefined, false);
    expect(rest.status).toBe(401);
    expect(rest.body.error.code).toBe('unauthorized');
    const mcp = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(mcp.status).toBe(401);
  });

  it('searches the block catalog', async () => {
    const found = await call('GET', '/v1/block-types?q=postgres%20incremental');
    expect(found.status).toBe(200);
    expect(JSON.stringify(found.body)).toContain('postgres_incremental_extract');
  });

  it('creates a pipeline (its configs checked by the precompiled validators) and reads it back', async () => {
    const created = await call('POST', '/v1/pipelines', flagshipSpec());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const read = await call('GET', `/v1/pipelines/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe(flagshipSpec().name);
    expect(JSON.stringify(read.body)).toContain('postgres_incremental_extract');

    // A bad config gets the same model-readable issue as on the Node server.
    const bad = flagshipSpec();
    delete (bad.blocks[0]!.config as Record<string, unknown>).table;
    const refused = await call('POST', '/v1/pipelines', bad);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('config is missing the required field');
  });

  it('lists and calls tools over MCP with the SDK client (Streamable HTTP)', async () => {
    const client = new Client({ name: 'workers-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['search_block_types', 'get_block_type', 'compile_code_repository']));
      // A tool call counts against the caller's rate limit: a counter in the Durable Object KV.
      const result = await client.callTool({ name: 'search_block_types', arguments: { query: 'clickhouse' } });
      expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
      expect(JSON.stringify(result.content)).toContain('clickhouse_replacing_merge_tree_load');
    } finally {
      await client.close();
    }
  });

  it('answers a deploy and a code-repository compile with the Node server, never a crash', async () => {
    const pipeline = await call('POST', '/v1/pipelines', { ...flagshipSpec(), name: 'Customers on Workers' });
    expect(pipeline.status, JSON.stringify(pipeline.body)).toBe(201);
    const deploy = await call('POST', `/v1/pipelines/${pipeline.body.id}/deployments`, { environment: 'development' });
    expect(deploy.status, JSON.stringify(deploy.body)).toBe(503);
    expect(deploy.body.error.code).toBe('unavailable:runtime');
    expect(deploy.body.error.message).toContain('runs only on the Node server (npm start)');
    // Nothing was queued for a worker that is not there.
    expect((await call('GET', `/v1/pipelines/${pipeline.body.id}/deployments`)).body.deployments).toEqual([]);

    const compile = await call('POST', '/dagster/compile/', { repo_url: 'https://github.com/example/blocks.git', branch: 'main' });
    expect(compile.status).toBe(503);
    expect(compile.body.error).toMatchObject({ code: 'unavailable:runtime' });
    expect(compile.body.error.message).toContain('Compiling a code repository runs only on the Node server (npm start)');
  });
});
