import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolResultSchema, ErrorCode, LATEST_PROTOCOL_VERSION, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../mcp-server/create-server.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { MAX_DEPTH } from '../../src/input-guard.ts';
import { createLogger } from '../../src/logger.ts';
import { deepJson, expectNoLeak, smallSpec, storeCounts } from '../routes/hostile.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Over MCP, arguments the store cannot hold used to overflow the stack (JSON-RPC -32603 "Maximum
// call stack size exceeded", unlogged) or reach the store; a resource URI with a bad id returned
// the database's own error text. Each is now an answer a model can act on.

const SPEC = smallSpec('mcp hostile');

type Result = CallToolResult & { structuredContent?: any };

describe('hostile MCP input', () => {
  let t: TestApp;
  let client: Client;
  let server: McpServer;

  beforeAll(async () => {
    t = await createTestApp('pglite');
    server = createMcpServer({ domain: t.services.domain, logger: createLogger('silent'), approvals: t.services.approvals, readOnly: false }, LOCAL_PRINCIPAL);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: 'hostile', version: '1.0.0' });
    await client.connect(clientSide);
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await t.close();
  });

  const text = (r: Result) => (r.content as Array<{ text: string }>)[0]!.text;

  /** Calls the tool, expecting a tool error (not a protocol error) naming `path`, and no store change. */
  async function refusedCall(name: string, args: unknown, path: string, code: string) {
    const before = await storeCounts(t.db);
    const result = (await client.request({ method: 'tools/call', params: { name, arguments: args as Record<string, unknown> } }, CallToolResultSchema)) as Result;
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('invalid:arguments');
    expect(text(result)).toContain(`\n- ${path}`);
    expect(text(result)).toContain(code === 'too_deep' ? `nested more than ${MAX_DEPTH} levels` : code === 'nul_character' ? 'NUL' : 'surrogate');
    expectNoLeak(text(result));
    expect(await storeCounts(t.db)).toEqual(before);
  }

  it('arguments nested 20,000 deep → a tool error naming the path, not -32603 stack overflow', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    await refusedCall('validate_pipeline', { spec: deep }, '/spec/0/0', 'too_deep');
    await refusedCall('propose_pipeline', { spec: { ...SPEC, blocks: [{ ...SPEC.blocks[0], config: { table: 'x', deep } }] } }, '/spec/blocks/0/config/deep', 'too_deep');
    // The spec may come as a JSON string (models send that); it is parsed, then guarded.
    await refusedCall('validate_pipeline', { spec: deepJson(20_000) }, '/spec/a/a', 'too_deep');
  });

  it('a NUL or a lone surrogate in any text → a tool error naming the field', async () => {
    await refusedCall('propose_pipeline', { spec: { ...SPEC, name: 'a\u0000' } }, '/spec/name', 'nul_character');
    await refusedCall('propose_pipeline', { spec: { ...SPEC, description: 'half \ud800' } }, '/spec/description', 'lone_surrogate');
    await refusedCall('search_block_types', { query: 'post\u0000gres' }, '/query', 'nul_character');
  });

  it('a version beyond the store\'s integers → invalid arguments at /version', async () => {
    const created = (await client.callTool({ name: 'propose_pipeline', arguments: { spec: SPEC } })) as Result;
    expect(created.isError, text(created)).toBeFalsy();
    const id = created.structuredContent.pipeline_id;
    const result = (await client.callTool({ name: 'get_pipeline', arguments: { pipeline_id: id, version: 99_999_999_999 } })) as Result;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/invalid:arguments[\s\S]*\/version: /);
    expectNoLeak(text(result));
  });

  it('resources/read with an id that is not a UUID → invalid params saying so, not the database\'s words', async () => {
    const read = client.readResource({ uri: 'constellation://pipelines/not-a-uuid' });
    await expect(read).rejects.toBeInstanceOf(McpError);
    await expect(read).rejects.toMatchObject({ code: ErrorCode.InvalidParams, message: expect.stringContaining('UUID') });
    const error = await read.catch((e: Error) => e);
    expectNoLeak(String((error as Error).message));
    const nul = await client.readResource({ uri: 'constellation://block-types/postgres%00' }).catch((e: Error) => e);
    expect(nul).toMatchObject({ code: ErrorCode.InvalidParams, message: expect.stringContaining('NUL') });
    const missing = await client.readResource({ uri: 'constellation://pipelines/7b0e0c1a-0000-4000-8000-0000000000ff' }).catch((e: Error) => e);
    expect(missing).toMatchObject({ code: ErrorCode.InvalidParams, message: expect.stringContaining('No pipeline') });
  });

  it('over Streamable HTTP too: a 20,000-deep tools/call is a tool result, not -32603', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await t.app.request('/mcp', {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    await init.text();
    const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
    const call = await t.app.request('/mcp', {
      method: 'POST',
      headers: session,
      body: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"validate_pipeline","arguments":{"spec":${deepJson(20_000, '[', ']')}}}}`,
    });
    expect(call.status).toBe(200);
    const events = (await call.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    const answer = events.find((e) => e.id === 2);
    expect(answer.error).toBeUndefined();
    expect(answer.result.isError).toBe(true);
    expect(answer.result.content[0].text).toContain(`nested more than ${MAX_DEPTH} levels`);
    await t.app.request('/mcp', { method: 'DELETE', headers: { 'mcp-session-id': session['mcp-session-id'] } });
  });

  it('/mcp/ (trailing slash) reads its own body too: the REST input guard leaves it to the tools', async () => {
    const init = await t.app.request('/mcp/', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    await init.text();
    await t.app.request('/mcp', { method: 'DELETE', headers: { 'mcp-session-id': init.headers.get('mcp-session-id')! } });
  });
});
