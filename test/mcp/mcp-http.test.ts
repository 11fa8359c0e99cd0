import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('MCP over Streamable HTTP at /mcp (through the app, no socket)', () => {
  let t: TestApp;
  let client: Client;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    client = new Client({ name: 'test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL('http://localhost/mcp'), { fetch: async (url, init) => t.app.request(String(url), init as RequestInit) });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client.close();
    await t.close();
  });

  it('lists every tool with schemas and annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name)).toContain('search_block_types');
    expect(tools).toHaveLength(20);
  });

  it('searches the catalog with structured content', async () => {
    const result = await client.callTool({ name: 'search_block_types', arguments: { query: 'postgres incremental', limit: 3 } });
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as any).results[0].block_type.ref).toBe('postgres_incremental_extract@1');
    expect((result.content as any)[0].text).toMatch(/<untrusted-data-[0-9a-f]{16}>/);
  });
});
