import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION, McpError } from '@modelcontextprotocol/sdk/types.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagshipSpec } from '../compile/fixtures.ts';
import { freshDbUrl } from '../support/databases.ts';
import { freePort } from '../support/postgres-server.ts';

// The stdio entry as an IDE assistant starts it: a child process speaking MCP on stdin/stdout.
// With DATABASE_URL it serves the Postgres store itself; without, it relays to a running
// service's /mcp.

const ROOT = resolve(import.meta.dirname, '../..');
const STDIO = join(ROOT, 'mcp-server/stdio.ts');
const INITIALIZE_PARAMS = { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } };
const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), LOG_LEVEL: 'info', DAGSTER_GRAPHQL_URL: 'none' };

/** Polls until `check` returns a value; fails with `what` after `ms`. */
async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));

describe('the stdio entry', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const clients: Client[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'constellation-mcp-stdio-'));
    dirs.push(dir);
    return dir;
  };

  /** A Client on a StdioClientTransport spawning the entry, with its stderr collected. */
  async function stdioClient(env: Record<string, string>) {
    const transport = new StdioClientTransport({ command: process.execPath, args: [STDIO], cwd: ROOT, env: { ...BASE_ENV, DATA_DIR: tempDir(), ...env }, stderr: 'pipe' });
    let stderr = '';
    transport.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    clients.push(client);
    return { client, transport, stderr: () => stderr, connect: () => client.connect(transport) };
  }

  /**
   * The entry spawned by hand, to see its stdout byte for byte: every line must be a JSON-RPC
   * message (the SDK client would only fail on junk, not show it).
   */
  function rawSession(env: Record<string, string>) {
    const child = spawn(process.execPath, [STDIO], { cwd: ROOT, env: { ...BASE_ENV, DATA_DIR: tempDir(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const messages = () => {
      const lines = stdout.split('\n');
      // Every line, the last one included, is complete.
      expect(lines.at(-1), 'a partial line on stdout').toBe('');
      return lines.slice(0, -1).map((line) => {
        const message = JSON.parse(line) as { jsonrpc: string; id?: number; result?: any; error?: any };
        expect(message.jsonrpc, line).toBe('2.0');
        return message;
      });
    };
    return {
      send: (message: unknown) => child.stdin!.write(`${JSON.stringify(message)}\n`),
      answer: (id: number) => waitFor(`the answer to request ${id} (stderr: ${stderr})`, () => (stdout.endsWith('\n') ? messages().find((m) => m.id === id) : undefined)),
      messages,
      stderr: () => stderr,
      /** Closes stdin, as a client ending the session does, and waits for the process to exit. */
      end: () => {
        child.stdin!.end();
        return exited(child);
      },
    };
  }

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('with DATABASE_URL: the Postgres store, served in process', () => {
    let databaseUrl: string;
    beforeAll(async () => {
      databaseUrl = await freshDbUrl();
    });

    it('lists the tools and searches the catalog; stderr says what it serves', async () => {
      const s = await stdioClient({ DATABASE_URL: databaseUrl });
      await s.connect();
      const { tools } = await s.client.listTools();
      expect(tools).toHaveLength(20);
      const result = (await s.client.callTool({ name: 'search_block_types', arguments: { query: 'incremental postgres', limit: 1 } })) as { isError?: boolean; structuredContent?: any };
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent.results[0].block_type.ref).toBe('postgres_incremental_extract@1');
      // It is that database it serves: what it saves is there.
      const saved = (await s.client.callTool({ name: 'propose_pipeline', arguments: { spec: flagshipSpec() } })) as { structuredContent?: any };
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const { rows } = await db.query('SELECT name FROM pipelines WHERE id = $1', [saved.structuredContent.pipeline_id]);
        expect(rows).toEqual([{ name: 'Customers → ClickHouse' }]);
      } finally {
        await db.end();
      }
      await waitFor('the start-up notice', () => (s.stderr().includes('serving the Postgres store directly') ? true : undefined));
      // Never the connection string.
      expect(s.stderr()).not.toContain(databaseUrl);
    });

    it('with MCP_READ_ONLY, lists only the read-only tools and says so', async () => {
      const s = await stdioClient({ DATABASE_URL: databaseUrl, MCP_READ_ONLY: 'true' });
      await s.connect();
      const { tools } = await s.client.listTools();
      expect(tools.map((x) => x.name)).not.toContain('deploy_pipeline');
      expect(tools.every((x) => x.annotations?.readOnlyHint === true)).toBe(true);
      await waitFor('the start-up notice', () => (s.stderr().includes('serving the Postgres store directly (read-only)') ? true : undefined));
    });

    it('writes nothing but JSON-RPC to stdout, and exits when stdin closes', async () => {
      const raw = rawSession({ DATABASE_URL: databaseUrl });
      raw.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INITIALIZE_PARAMS });
      expect((await raw.answer(1)).result.serverInfo.name).toBe('constellation-agent');
      raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
      raw.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_block_type', arguments: { ref: 'nope@9' } } });
      expect((await raw.answer(2)).result.tools).toHaveLength(20);
      expect((await raw.answer(3)).result).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringMatching(/^Error not_found/) }] });

      expect(await raw.end()).toEqual({ code: 0, signal: null });
      expect(raw.messages().map((m) => m.id)).toEqual([1, 2, 3]);
      expect(raw.stderr()).toContain('serving the Postgres store directly');
    });
  });

  describe('without DATABASE_URL: a bridge to the running service', () => {
    let port: number;
    let serviceDataDir: string;
    beforeAll(async () => {
      port = await freePort();
      serviceDataDir = tempDir();
      const service = spawn(process.execPath, [join(ROOT, 'src/server.ts')], {
        cwd: ROOT,
        env: { ...BASE_ENV, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: serviceDataDir, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(service);
      let stderr = '';
      service.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      await waitFor(
        'the service to answer /health',
        async () => {
          if (service.exitCode !== null) throw new Error(`the service exited with ${service.exitCode}: ${stderr}`);
          const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
          return res?.ok ? true : undefined;
        },
        60_000,
      );
    });

    it('lists the tools and searches through the service; stderr says it is bridging', async () => {
      const s = await stdioClient({ MCP_SERVICE_URL: `http://127.0.0.1:${port}/mcp` });
      await s.connect();
      expect(s.client.getServerVersion()).toMatchObject({ name: 'constellation-agent' });
      const { tools } = await s.client.listTools();
      expect(tools).toHaveLength(20);
      const result = (await s.client.callTool({ name: 'search_block_types', arguments: { query: 'clickhouse' } })) as { isError?: boolean; structuredContent?: any };
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent.results[0].block_type.ref).toMatch(/clickhouse/);
      const failed = (await s.client.callTool({ name: 'get_pipeline', arguments: { pipeline_id: 'nope' } })) as { isError?: boolean; content: Array<{ text: string }> };
      expect(failed.isError).toBe(true);
      expect(failed.content[0]!.text).toContain('Error invalid:arguments');
      await waitFor('the bridging notice', () => (s.stderr().includes(`bridging to http://127.0.0.1:${port}/mcp`) ? true : undefined));
    });

    // Not the default port: an entry that assumed :8000 would find no service (or someone else's).
    it('without MCP_SERVICE_URL, finds the service that holds its DATA_DIR, on the port it listens on', async () => {
      expect(port).not.toBe(8000);
      const s = await stdioClient({ DATA_DIR: serviceDataDir });
      await s.connect();
      expect((await s.client.listTools()).tools).toHaveLength(20);
      await waitFor('the bridging notice', () => (s.stderr().includes(`bridging to http://127.0.0.1:${port}/mcp (found from the service (pid `) ? true : undefined));
    });

    it('with no service in its DATA_DIR, goes where HOST and PORT say the service listens', async () => {
      const s = await stdioClient({ PORT: String(port), HOST: '127.0.0.1' });
      await s.connect();
      expect((await s.client.listTools()).tools).toHaveLength(20);
      await waitFor('the bridging notice', () => (s.stderr().includes(`bridging to http://127.0.0.1:${port}/mcp (found from HOST and PORT`) ? true : undefined));
    });

    it('relays only JSON-RPC on stdout, and exits when stdin closes', async () => {
      const raw = rawSession({ MCP_SERVICE_URL: `http://127.0.0.1:${port}/mcp` });
      raw.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INITIALIZE_PARAMS });
      expect((await raw.answer(1)).result.serverInfo.name).toBe('constellation-agent');
      raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_environments', arguments: {} } });
      expect((await raw.answer(2)).result.structuredContent.environments[0]).toMatchObject({ name: 'development', dagster_url: null });
      expect(await raw.end()).toEqual({ code: 0, signal: null });
      expect(raw.messages().map((m) => m.id)).toEqual([1, 2]);
    });

    it('with no service listening, the first call fails with a message telling to start it', async () => {
      const closed = await freePort();
      const s = await stdioClient({ MCP_SERVICE_URL: `http://127.0.0.1:${closed}/mcp` });
      const error = await s.connect().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).message).toContain(`No Constellation Agent answers at http://127.0.0.1:${closed}/mcp`);
      expect((error as McpError).message).toContain('npm start');
      expect((error as McpError).message).toContain('DATABASE_URL');
    });
  });
});
