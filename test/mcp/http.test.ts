import { request as httpRequest, type Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { freePort } from '../support/postgres-server.ts';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// The real app on a real socket, with the SDK's Streamable HTTP client: sessions, concurrency,
// DNS-rebinding protection and the session lifecycle, as a remote MCP client meets them.

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } } };
const SECRETS = ['SOURCE_DB_URL', 'WAREHOUSE_URL'];
const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

describe('MCP over Streamable HTTP on a real socket', () => {
  let t: TestApp;
  let server: Server;
  let port: number;
  let url: URL;
  const clients: Array<{ client: Client; transport: StreamableHTTPClientTransport }> = [];

  /** node:http rather than fetch, so any Host header goes out as written. */
  const raw = (method: string, headers: Record<string, string>, body?: unknown) =>
    new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/mcp', method, headers: { accept: 'application/json, text/event-stream', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });

  async function connect(capabilities: ConstructorParameters<typeof Client>[1] = {}, onElicit?: () => { action: 'accept'; content: { confirm: boolean } }) {
    const transport = new StreamableHTTPClientTransport(url);
    const client = new Client({ name: 'http-test', version: '1.0.0' }, capabilities);
    if (onElicit) client.setRequestHandler(ElicitRequestSchema, async () => onElicit());
    await client.connect(transport);
    clients.push({ client, transport });
    return { client, transport };
  }

  beforeAll(async () => {
    t = await createTestApp('pglite', {
      environments: [
        writeOnlyEnvironment('development', { secrets: SECRETS }),
        writeOnlyEnvironment('production', { secrets: SECRETS, policy: { approval_required_for_model_deploys: true, allow_destructive: false } }),
      ],
    });
    port = await freePort();
    await new Promise<void>((resolve) => {
      server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' }, () => resolve()) as Server;
    });
    url = new URL(`http://127.0.0.1:${port}/mcp`);
  });
  afterAll(async () => {
    for (const { client, transport } of clients) {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await t.close();
  });

  it('initializes a session, lists the tools and calls one', async () => {
    const { client, transport } = await connect();
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.getServerVersion()).toMatchObject({ name: 'constellation-agent' });
    expect(client.getInstructions()).toContain('search_block_types');
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(20);
    const result = (await client.callTool({ name: 'search_block_types', arguments: { query: 'clickhouse', limit: 2 } })) as { isError?: boolean; structuredContent?: any };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.results.length).toBeGreaterThan(0);
    expect(result.structuredContent.results[0].block_type.ref).toMatch(/clickhouse/);
  });

  it('gives a second client its own session, and both work at the same time', async () => {
    const a = await connect();
    const b = await connect();
    expect(a.transport.sessionId).toBeTruthy();
    expect(b.transport.sessionId).toBeTruthy();
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    const [ra, rb, la, lb] = await Promise.all([
      a.client.callTool({ name: 'search_block_types', arguments: { query: 'postgres' } }),
      b.client.callTool({ name: 'get_block_type', arguments: { ref: 'postgres_incremental_extract' } }),
      a.client.listTools(),
      b.client.callTool({ name: 'list_environments', arguments: {} }),
    ]);
    expect((ra as any).structuredContent.results[0].block_type.ref).toMatch(/^postgres/);
    expect((rb as any).structuredContent.block_type.ref).toBe('postgres_incremental_extract@1');
    expect(la.tools).toHaveLength(20);
    expect((lb as any).structuredContent.environments.map((e: { name: string }) => e.name)).toEqual(['development', 'production']);
  });

  it('refuses a foreign Host header with 403 before the transport sees it', async () => {
    const res = await raw('POST', { host: 'evil.example' }, INITIALIZE);
    expect(res.status).toBe(403);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    expect(JSON.parse(res.body).error.message).toContain('evil.example');
    // A Host naming an allowed name on another port is still ours.
    const ok = await raw('POST', { host: `localhost:${port}` }, INITIALIZE);
    expect(ok.status).toBe(200);
    expect(ok.headers['mcp-session-id']).toBeTruthy();
    await raw('DELETE', { 'mcp-session-id': String(ok.headers['mcp-session-id']) });
  });

  it('refuses a foreign Origin with 403, and serves our own', async () => {
    const res = await raw('POST', { origin: 'http://evil.example' }, INITIALIZE);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.message).toContain('http://evil.example');
    const sneaky = await raw('POST', { origin: 'http://127.0.0.1.evil.example' }, INITIALIZE);
    expect(sneaky.status).toBe(403);
    const ours = await raw('POST', { origin: `http://localhost:${port}` }, INITIALIZE);
    expect(ours.status).toBe(200);
    await raw('DELETE', { 'mcp-session-id': String(ours.headers['mcp-session-id']) });
  });

  it('answers an unknown Mcp-Session-Id with 404', async () => {
    const res = await raw('POST', { 'mcp-session-id': '00000000-0000-4000-8000-00000000dead' }, LIST);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32001, message: expect.stringContaining('initialize') } });
  });

  it('answers a non-initialize POST without a session with 400, opening no session', async () => {
    const res = await raw('POST', {}, LIST);
    expect(res.status).toBe(400);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    expect(JSON.parse(res.body).error.message).toMatch(/initialize/);
    const get = await raw('GET', {});
    expect(get.status).toBe(400);
    const empty = await raw('POST', { 'content-type': 'application/json' }, undefined);
    expect(empty.status).toBe(400);
    // A POST that does not say JSON is refused before the transport, in JSON-RPC's shape.
    const untyped = await raw('POST', {}, undefined);
    expect(untyped.status).toBe(415);
    expect(JSON.parse(untyped.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringContaining('application/json') } });
  });

  it('ends a session on DELETE; the session is then unknown (404)', async () => {
    const { client, transport } = await connect();
    const id = transport.sessionId!;
    const before = await raw('POST', { 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION }, LIST);
    expect(before.status).toBe(200);
    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    const after = await raw('POST', { 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION }, LIST);
    expect(after.status).toBe(404);
    expect((await raw('DELETE', { 'mcp-session-id': id })).status).toBe(404);
    await client.close();
  });

  describe('approval across HTTP requests', () => {
    let pid: string;
    beforeAll(async () => {
      pid = (await t.services.pipelines.create(LOCAL_PRINCIPAL, { ...flagshipSpec(), name: 'over http' })).pipeline.id;
    });
    const productionDeploys = async () => (await t.services.deploymentRepo.list(LOCAL_PRINCIPAL, pid)).filter((d) => d.environment === 'production').length;

    it('asks an eliciting client over its session stream and deploys once it agrees', async () => {
      let asked = 0;
      const { client } = await connect({ capabilities: { elicitation: {} } }, () => {
        asked++;
        return { action: 'accept', content: { confirm: true } };
      });
      const result = (await client.callTool({ name: 'deploy_pipeline', arguments: { pipeline_id: pid, environment: 'production', dry_run: false } })) as { isError?: boolean; structuredContent?: any };
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ dry_run: false, environment: 'production', status: 'pending' });
      expect(asked).toBe(1);
      expect(await productionDeploys()).toBe(1);
    });

    it('gives a client that cannot elicit an approval request; once a person approves, its next call goes through', async () => {
      const { client } = await connect();
      const args = { pipeline_id: pid, environment: 'production', dry_run: false };
      const ask = (await client.callTool({ name: 'deploy_pipeline', arguments: args })) as { isError?: boolean; content: Array<{ text: string }> };
      expect(ask.isError).toBe(true);
      const id = /apr_[A-Za-z0-9_-]+/.exec(ask.content[0]!.text)![0];
      expect(await productionDeploys()).toBe(1);
      await t.services.approvals.decide(LOCAL_PRINCIPAL, id, true);
      const done = (await client.callTool({ name: 'deploy_pipeline', arguments: args })) as { isError?: boolean };
      expect(done.isError).toBeFalsy();
      expect(await productionDeploys()).toBe(2);
    });
  });

  it('an app built read-only (AppDeps.mcp.readOnly) lists only read-only tools and refuses deploys', async () => {
    const app = createApp({ domain: t.services.domain, logger: createLogger('silent'), maxBodyBytes: 1024 * 1024, allowedHosts: ['localhost'], mcp: { readOnly: true } });
    const transport = new StreamableHTTPClientTransport(new URL('http://localhost/mcp'), { fetch: async (u, init) => app.request(String(u), init as RequestInit) });
    const client = new Client({ name: 'read-only', version: '1.0.0' });
    await client.connect(transport);
    clients.push({ client, transport });
    const { tools } = await client.listTools();
    expect(tools.length).toBe(11);
    expect(tools.every((x) => x.annotations?.readOnlyHint === true)).toBe(true);
    const pid = (await t.services.pipelines.list(LOCAL_PRINCIPAL))[0]!.id;
    const result = (await client.callTool({ name: 'deploy_pipeline', arguments: { pipeline_id: pid, environment: 'development', dry_run: false } })) as { isError?: boolean; content: Array<{ text: string }> };
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/^Error forbidden:read_only/);
  });
});
