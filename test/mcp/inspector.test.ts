// The official MCP Inspector CLI (@modelcontextprotocol/inspector --cli) as a client of our two
// entries: the real app's /mcp over Streamable HTTP, and mcp-server/stdio.ts over stdio with a
// fresh Postgres store. Offline: loopback only, no browser (the CLI mode starts none).
import { serve } from '@hono/node-server';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDbUrl } from '../support/databases.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'node_modules/.bin');
// The inspector keeps state under ~/.mcp-inspector; a throwaway HOME keeps the real one untouched.
const home = mkdtempSync(join(tmpdir(), 'constellation-inspector-home-'));

interface Outcome {
  code: number;
  json: any;
  stderr: string;
}

/** `mcp-inspector --cli <args> --format json`: its one JSON object (a result on stdout, or an error envelope on stderr) parsed. */
function inspector(args: string[]): Promise<Outcome> {
  return new Promise((done, fail) => {
    execFile(
      join(bin, 'mcp-inspector'),
      ['--cli', ...args, '--format', 'json'],
      { cwd: root, env: { ...process.env, HOME: home, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` }, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return fail(error);
        let json: unknown;
        try {
          json = JSON.parse(stdout.trim() ? stdout : stderr);
        } catch {
          return fail(new Error(`mcp-inspector printed no JSON (exit ${error?.code ?? 0}):\n${stdout.slice(0, 2000)}\n${stderr.slice(0, 2000)}`));
        }
        done({ code: error ? (error.code as number) : 0, json, stderr });
      },
    );
  });
}

const listTools = ['--method', 'tools/list'];
const searchPostgres = ['--method', 'tools/call', '--tool-name', 'search_block_types', '--tool-arg', 'query=postgres'];

function expectToolList(out: Outcome) {
  expect(out.code, out.stderr).toBe(0);
  const tools: Array<{ name: string; inputSchema: { type: string } }> = out.json.result.tools;
  const names = tools.map((t) => t.name);
  for (const name of ['search_block_types', 'get_block_type', 'validate_pipeline', 'propose_pipeline', 'deploy_pipeline', 'pipeline_status']) expect(names).toContain(name);
  for (const tool of tools) expect(tool.inputSchema.type, tool.name).toBe('object');
}

function expectPostgresSearch(out: Outcome) {
  expect(out.code, out.stderr).toBe(0);
  const result = out.json.result;
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent.results[0].block_type.ref).toBe('postgres_incremental_extract@1');
  expect(result.content[0].text).toContain('postgres_incremental_extract@1');
}

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('MCP Inspector CLI against the real app over Streamable HTTP', () => {
  let t: TestApp;
  let server: ReturnType<typeof serve>;
  let url: string;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    server = await new Promise((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    if (server) {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await t?.close();
  });

  it('tools/list lists our tools', async () => {
    expectToolList(await inspector([url, '--transport', 'http', ...listTools]));
  });

  it('tools/list --strict finds nothing unportable in any tool schema', async () => {
    // --strict prints each finding (path, issue) on stderr; without findings it prints none.
    const out = await inspector([url, '--transport', 'http', ...listTools, '--strict']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).not.toMatch(/Warning|Error|portability/);
  });

  it('tools/call search_block_types query=postgres returns postgres_incremental_extract@1', async () => {
    expectPostgresSearch(await inspector([url, '--transport', 'http', ...searchPostgres]));
  });

  it('reports an unknown tool as an error', async () => {
    const out = await inspector([url, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'no_such_tool']);
    expect(out.code).not.toBe(0);
    expect(out.json.error.code).toBe('tool_not_found');
  });
});

describe('MCP Inspector CLI against the stdio entry over a fresh Postgres store', () => {
  let dataDir: string;
  let target: string[];
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'constellation-inspector-data-'));
    // -e passes each variable to the server process the inspector starts.
    target = ['-e', `DATABASE_URL=${await freshDbUrl()}`, '-e', 'DAGSTER_GRAPHQL_URL=none', '-e', `DATA_DIR=${dataDir}`, '-e', 'LOG_LEVEL=warn', join(bin, 'node'), join(root, 'mcp-server/stdio.ts')];
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('tools/list lists our tools', async () => {
    expectToolList(await inspector([...target, ...listTools]));
  });

  it('tools/call search_block_types query=postgres returns postgres_incremental_extract@1', async () => {
    expectPostgresSearch(await inspector([...target, ...searchPostgres]));
  });
});
