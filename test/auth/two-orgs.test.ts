import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_PATHS } from '../../src/app.ts';
import type { Principal, Role } from '../../src/auth/principal.ts';
import type { BlockTypeManifest } from '../../src/catalog/manifest-schema.ts';
import { TOOLS } from '../../tools/index.ts';
import { scriptedModel, sendTurn, textOf, toolParts, user } from '../chat/helpers.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { mcpClient } from '../support/surfaces.ts';
import { smallSpec } from '../routes/hostile.ts';
import { as, createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Two orgs and an anonymous caller against every route (from /openapi.json), every MCP tool (from
// TOOLS) and the chat. Org A makes one of everything; org B, holding A's ids, is answered exactly
// as for ids that do not exist, and nothing of A's (ids, names) is in any answer. The anonymous
// caller gets 401 everywhere but the public paths. Then roles: a viewer cannot create or deploy,
// an editor cannot deploy, on REST, MCP and chat alike.

const NAME = 'Zanzibar-orders-7731';
const BLOCK_NAME = 'Zanzibar-extract-7731';
const CHAT_TEXT = 'Zanzibar chat 7731';
const BLOCK_TYPE = 'zanzibar_private_load';

/** A small valid spec (extract → load). */
const spec = (name: string) => smallSpec(name);

/** The ids one org's objects have; `fresh()` makes ids of the same shape that name nothing. */
interface Ids {
  block: string;
  block2: string;
  edge: string;
  pipeline: string;
  deployment: string;
  chat: string;
  run: string;
  backfill: string;
  /** A block type of the org's own (not a built-in). */
  blockType: string;
  /** A user of the org, and one of its API keys. */
  user: string;
  key: string;
  /** A pending approval request of the org's. */
  approval: string;
  /** A code repository compile of the org's. */
  compile: string;
}
const fresh = (): Ids => ({
  approval: `apr_${randomUUID().replace(/-/g, '').slice(0, 22)}`,
  block: randomUUID(),
  block2: randomUUID(),
  edge: randomUUID(),
  pipeline: randomUUID(),
  deployment: randomUUID(),
  chat: `chat-${randomUUID()}`,
  run: randomUUID(),
  backfill: 'abcdefgh',
  blockType: `nothing_${randomUUID().slice(0, 8)}_load`,
  user: randomUUID(),
  key: randomUUID(),
  compile: randomUUID(),
});

/** Which of the ids a path parameter takes (by the collection the path names). */
function paramId(path: string, param: string, ids: Ids): string | null {
  // Retiring names one version.
  if (param === 'ref') return path.endsWith('/retire') ? `${ids.blockType}@1` : ids.blockType;
  if (param === 'compile_id') return ids.compile;
  if (param === 'pipeline_id') return ids.pipeline;
  if (param === 'run_id') return ids.run;
  if (param === 'backfill_id') return ids.backfill;
  if (param === 'env') return 'development'; // an environment is the deployment's, not an org's
  if (param !== 'id') throw new Error(`${path}: say which object {${param}} names (paramId in two-orgs.test.ts)`);
  const collection = path.split('/')[2];
  const byCollection: Record<string, string> = { approvals: ids.approval, 'api-keys': ids.key, blocks: ids.block, edges: ids.edge, pipelines: ids.pipeline, deployments: ids.deployment, chat: ids.chat, chats: ids.chat };
  const id = byCollection[collection!];
  if (!id) throw new Error(`${path}: say which object {id} names (paramId in two-orgs.test.ts)`);
  return id;
}

/**
 * Bodies (and queries) for operations that take them; `targets` when they name objects by id.
 * An operation with a request body missing here fails the suite, so a new route is not skipped.
 */
const BODIES: Record<string, { body?: (ids: Ids) => unknown; query?: (ids: Ids) => string; targets?: boolean }> = {
  'POST /v1/blocks': { body: () => ({ name: 'B block', block_type: 'postgres_incremental_extract', config: { table: 'public.b' } }) },
  'PATCH /v1/blocks/{id}': { body: () => ({ name: 'renamed by B' }) },
  'POST /v1/edges': { body: (ids) => ({ source_block_id: ids.block, source_port: 'rows', target_block_id: ids.block2, target_port: 'rows' }), targets: true },
  'GET /v1/edges': { query: (ids) => `?block_id=${ids.block}` },
  'POST /v1/pipelines': { body: () => spec('B pipeline') },
  'PUT /v1/pipelines/{id}': { body: () => ({ spec: spec('B replacement') }) },
  'PATCH /v1/pipelines/{id}': { body: () => [{ op: 'replace', path: '/name', value: 'renamed by B' }] },
  'POST /v1/pipelines/validate': { body: () => spec('B check') },
  'POST /v1/pipelines/{id}/backfills': { body: () => ({ partitions: ['2024-01-01'] }) },
  'POST /v1/pipelines/{id}/compile': { body: () => ({}) },
  'POST /v1/pipelines/{id}/deployments': { body: () => ({ environment: 'development' }) },
  'POST /v1/pipelines/{id}/runs': { body: () => ({}) },
  'POST /v1/pipelines/{id}/runs/{run_id}/terminate': { body: () => ({}) },
  'POST /v1/pipelines/{id}/triggers/pause': { body: () => ({}) },
  'POST /v1/pipelines/{id}/triggers/resume': { body: () => ({}) },
  'POST /v1/chat': { body: (ids) => ({ id: ids.chat, messages: [user('b-1', 'hello')], trigger: 'submit-message' }), targets: true },
  'POST /dagster/pipelines': { body: (ids) => ({ pipeline_name: 'B from blocks', block_ids: [ids.block, ids.block2] }), targets: true },
  'POST /dagster/pipelines/{pipeline_id}/deploy': { body: () => ({ environment: 'development' }) },
  'POST /v1/api-keys': { body: (ids) => ({ user_id: ids.user, kind: 'agent' }), targets: true },
  'POST /v1/approvals/{id}/approve': { body: () => ({}) },
  'POST /v1/approvals/{id}/deny': { body: () => ({}) },
  'POST /v1/environments/{env}/inspect-source': { body: (ids) => ({ block_type: ids.blockType, config: {} }), targets: true },
  // Refused before any network (a loopback address): B's compile reaches nothing of A's either way.
  'POST /dagster/compile': { body: () => ({ repo_url: 'https://127.0.0.1/b.git', branch: 'main' }) },
};

/**
 * Exceptions to "A's id is answered as a fresh id", each with its reason:
 * - POST /v1/chat: chat ids are the client's; an unknown one starts a new chat (200), a taken one
 *   is a 404. Chat ids share one namespace, so a caller can learn that an id is taken (not whose,
 *   nor anything in it). Checked: A's id is a 404 that names nothing of A's.
 */
const NOT_LIKE_FRESH = new Set(['POST /v1/chat']);

/** Tool arguments naming A's objects; `targets` when they do. A tool missing here fails the suite. */
const TOOL_ARGS: Record<string, { args: (ids: Ids) => Record<string, unknown>; targets?: boolean }> = {
  search_block_types: { args: () => ({ query: 'zanzibar orders' }) },
  get_block_type: { args: (ids) => ({ ref: ids.blockType }), targets: true },
  compile_code_repository: { args: () => ({ repo_url: 'https://127.0.0.1/b.git', branch: 'main' }) },
  get_code_compile: { args: (ids) => ({ compile_id: ids.compile }), targets: true },
  validate_pipeline: { args: () => ({ spec: spec('B check') }) },
  propose_pipeline: { args: (ids) => ({ spec: spec('B over A'), pipeline_id: ids.pipeline }), targets: true },
  edit_pipeline: { args: (ids) => ({ pipeline_id: ids.pipeline, patch: [{ op: 'replace', path: '/name', value: 'renamed by B' }] }), targets: true },
  get_pipeline: { args: (ids) => ({ pipeline_id: ids.pipeline }), targets: true },
  list_pipelines: { args: () => ({}) },
  compile_pipeline: { args: (ids) => ({ pipeline_id: ids.pipeline }), targets: true },
  list_environments: { args: () => ({}) },
  deploy_pipeline: { args: (ids) => ({ pipeline_id: ids.pipeline, environment: 'development', dry_run: false }), targets: true },
  launch_run: { args: (ids) => ({ pipeline_id: ids.pipeline }), targets: true },
  backfill_pipeline: { args: (ids) => ({ pipeline_id: ids.pipeline, partitions: ['2024-01-01'] }), targets: true },
  pipeline_status: { args: (ids) => ({ pipeline_id: ids.pipeline, run_id: ids.run }), targets: true },
  get_run_logs: { args: (ids) => ({ pipeline_id: ids.pipeline, run_id: ids.run }), targets: true },
  terminate_run: { args: (ids) => ({ pipeline_id: ids.pipeline, run_id: ids.run }), targets: true },
  set_trigger_state: { args: (ids) => ({ pipeline_id: ids.pipeline, state: 'paused' }), targets: true },
  delete_pipeline: { args: (ids) => ({ pipeline_id: ids.pipeline }), targets: true },
  inspect_source: { args: (ids) => ({ block_type: ids.blockType, config: {}, environment: 'development' }), targets: true },
};

/** `text` with each id of `ids` replaced by its role, so answers about A's ids and fresh ones compare. */
function normalize(text: string, ids: Ids): string {
  let out = text;
  for (const [name, id] of Object.entries(ids)) out = out.split(id).join(`<${name}>`);
  return out.replace(/"request_id":"[^"]*"/g, '"request_id":"…"').replace(/apr_[\w-]+/g, 'apr_…');
}

type Key = { key: string; orgId: string; userId: string };
const principalOf = (k: Key, role: Role = 'admin'): Principal => ({ orgId: k.orgId, userId: k.userId, role, kind: 'person' });

describe('two orgs and an anonymous caller', () => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let a: Key;
  let b: Key;
  let A: Ids;
  /** Everything of A's that must never reach B: ids, names, the org and user. */
  let secrets: string[];

  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { authMode: 'required', llm: scriptedModel(llm), environments: [writeOnlyEnvironment('development', { secrets: ['POSTGRES_URL', 'CLICKHOUSE_URL'] })] });
    a = await t.issueKey({ org: 'org-a', user: 'alice' });
    b = await t.issueKey({ org: 'org-b', user: 'bob' });
    const asA = as(a.key);
    const made = async (method: string, path: string, body: unknown, status: number) => {
      const res = await t.call(method, path, body, asA);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
      return res.body;
    };
    const block = await made('POST', '/v1/blocks', { name: BLOCK_NAME, block_type: 'postgres_incremental_extract', config: { table: 'public.orders' } }, 201);
    const block2 = await made('POST', '/v1/blocks', { name: `${BLOCK_NAME}-load`, block_type: 'clickhouse_replacing_merge_tree_load', config: { table: 'orders', order_by: ['id'] } }, 201);
    const edge = await made('POST', '/v1/edges', { source_block_id: block.id, source_port: 'rows', target_block_id: block2.id, target_port: 'rows' }, 201);
    const pipeline = await made('POST', '/v1/pipelines', spec(NAME), 201);
    const deployment = await made('POST', `/v1/pipelines/${pipeline.id}/deployments`, { environment: 'development' }, 202);
    const chat = `chat-a-${randomUUID()}`;
    llm.script([{ text: 'Hello from A.' }]);
    const turn = await sendTurn(t, chat, [user('a-1', CHAT_TEXT)], undefined, asA);
    expect(textOf(turn.message)).toBe('Hello from A.');
    const builtin = (await t.services.catalog.require(principalOf(a), 'duckdb_load')) as unknown as Record<string, unknown>;
    const { ref: _ref, builtin: _builtin, ...manifest } = builtin;
    await t.services.catalogRepo.upsert([{ ...(manifest as BlockTypeManifest), slug: BLOCK_TYPE, name: 'Zanzibar private load', version: 1 }], a.orgId);
    expect((await t.call('GET', `/v1/block-types/${BLOCK_TYPE}`, undefined, asA)).status).toBe(200);
    const [aKey] = await t.services.keys.list(a.orgId);
    const approval = await t.services.domain.approvals.open({ principal: principalOf(a), surface: 'mcp', action: 'delete_pipeline', args: { pipeline_id: pipeline.id }, summary: { what: 'Delete a pipeline' } });
    // A compile of A's, as POST /dagster/compile/ stores it before its background work.
    const compile = await t.services.codeRepoStore.insertCompile({ orgId: a.orgId, userId: a.userId, repoUrl: 'https://git.example.com/zanzibar/blocks.git', branch: 'main' });
    A = {
      compile: compile.id, approval, user: a.userId, key: aKey!.id, blockType: BLOCK_TYPE, block: block.id, block2: block2.id, edge: edge.id, pipeline: pipeline.id, deployment: deployment.id, chat, run: randomUUID(), backfill: 'zzzzzzzz' };
    secrets = [a.key, A.key, A.approval, A.compile, 'zanzibar/blocks.git', BLOCK_TYPE, 'Zanzibar private load', A.block, A.block2, A.edge, A.pipeline, A.deployment, A.chat, NAME, BLOCK_NAME, CHAT_TEXT, a.orgId, a.userId, 'org-a', 'alice'];
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await llm?.close();
  });

  /** Nothing of A's in `text`, but the ids B itself sent (`sent`), which answers may echo. */
  const expectNothingOfA = (text: string, where: string, sent = '') => {
    for (const s of secrets) if (!sent.includes(s)) expect(text.includes(s), `${where} shows "${s}" of org A: ${text.slice(0, 400)}`).toBe(false);
  };

  /**
   * Every REST operation of the live OpenAPI document. /mcp is described there too, but speaks
   * JSON-RPC: the MCP tests below sweep it, over HTTP included.
   */
  async function operations() {
    const doc = (await t.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    return Object.entries(doc.paths).filter(([path]) => path !== '/mcp').flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), key: `${method.toUpperCase()} ${path}`, hasBody: !!op.requestBody })),
    );
  }

  function request(op: { path: string; method: string; key: string }, ids: Ids) {
    const extra = BODIES[op.key];
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const url = op.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(paramId(op.path, p, ids)!)) + (extra?.query?.(ids) ?? '');
    const targets = !!extra?.targets || params.length > 0;
    return { url, body: extra?.body?.(ids), targets };
  }

  it('the anonymous caller gets 401 on every route but the public ones', async () => {
    for (const op of await operations()) {
      const { url, body } = request(op, A);
      const res = await t.call(op.method, url, body);
      // /metrics is outside API-key auth but keeps its own door: this request came through no
      // loopback socket and no METRICS_TOKEN is set, so it is refused naming the variable.
      if (op.path === '/metrics') expect([res.status, JSON.stringify(res.body)]).toEqual([403, expect.stringContaining('METRICS_TOKEN')]);
      else if ((PUBLIC_PATHS as readonly string[]).includes(op.path)) expect(res.status, op.key).toBeLessThan(400);
      else expect(res.status, `${op.key}: ${JSON.stringify(res.body)}`).toBe(401);
      expectNothingOfA(JSON.stringify(res.body), `anonymous ${op.key}`, url + JSON.stringify(body));
    }
    const mcp = await t.app.request('/mcp', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(mcp.status).toBe(401);
  });

  it("every route answers org B about A's objects as about objects that do not exist", async () => {
    const ops = await operations();
    for (const op of ops) if (op.hasBody) expect(BODIES[op.key]?.body, `${op.key} takes a body: add it to BODIES`).toBeDefined();
    for (const op of ops) {
      const asA = request(op, A);
      const res = await t.call(op.method, asA.url, asA.body, as(b.key));
      const text = JSON.stringify(res.body);
      // B's own audit log lists B's attempts, with the ids B sent: those are B's words, not A's data.
      if (op.key === 'GET /v1/audit') {
        expect(res.status).toBe(200);
        for (const s of [NAME, BLOCK_NAME, CHAT_TEXT, a.userId, a.orgId]) expect(text).not.toContain(s);
        continue;
      }
      expectNothingOfA(text, `B's ${op.key}`, asA.url + JSON.stringify(asA.body));
      if (!asA.targets) {
        // Nothing of the server's own fails; a route not built yet says so (POST /dagster/compile).
        if (res.status >= 500) expect(res.body.error.code, `${op.key}: ${text}`).toMatch(/^not_implemented:/);
        continue;
      }
      expect(res.status, `${op.key}: ${text}`).toBe(404);
      if (NOT_LIKE_FRESH.has(op.key)) continue;
      const other = fresh();
      const asFresh = request(op, other);
      const control = await t.call(op.method, asFresh.url, asFresh.body, as(b.key));
      expect({ status: res.status, error: normalize(JSON.stringify(res.body.error), A) }, op.key).toEqual({
        status: control.status,
        error: normalize(JSON.stringify(control.body.error), other),
      });
    }
    // And A's objects are as A left them.
    expect((await t.call('GET', `/v1/pipelines/${A.pipeline}`, undefined, as(a.key))).body.name).toBe(NAME);
    expect((await t.call('GET', `/v1/blocks/${A.block}`, undefined, as(a.key))).body.name).toBe(BLOCK_NAME);
    expect((await t.call('GET', `/v1/chats/${A.chat}`, undefined, as(a.key))).status).toBe(200);
  });

  /**
   * What a tool call answered, as text, with whether it was an error. An approval-gated tool opens
   * an approval request first; the answer to that is compared too, then B's person approves it and
   * the same call is made again, so what is compared last is what the call itself did.
   */
  async function callTool(client: Awaited<ReturnType<typeof mcpClient>>['client'], name: string, args: Record<string, unknown>) {
    let result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    let text = (result.content as Array<{ text: string }>)[0]!.text;
    const approvalId = /^Error forbidden:approval_required:.*?(apr_[\w-]+)/.exec(text)?.[1];
    const asked = approvalId ? text : null;
    if (approvalId) {
      await t.services.domain.approvals.decide(principalOf(b), approvalId, true);
      result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      text = (result.content as Array<{ text: string }>)[0]!.text;
    }
    return { isError: !!result.isError, text, asked };
  }

  it("every MCP tool answers org B about A's objects as about objects that do not exist", async () => {
    const mcp = await mcpClient(t, principalOf(b));
    try {
      for (const tool of TOOLS) {
        const entry = TOOL_ARGS[tool.name];
        expect(entry, `${tool.name}: add it to TOOL_ARGS`).toBeDefined();
        const seen = await callTool(mcp.client, tool.name, entry!.args(A));
        expectNothingOfA(`${seen.asked ?? ''}${seen.text}`, `MCP ${tool.name}`, JSON.stringify(entry!.args(A)));
        if (!entry!.targets) continue;
        expect(seen.isError, `${tool.name}: ${seen.text}`).toBe(true);
        expect(seen.text, tool.name).toMatch(/^Error not_found:/);
        if (seen.asked) expect(seen.asked, tool.name).toMatch(/^Error forbidden:approval_required/);
        const other = fresh();
        const control = await callTool(mcp.client, tool.name, entry!.args(other));
        expect(normalize(seen.text, A), tool.name).toBe(normalize(control.text, other));
        expect(seen.asked && normalize(seen.asked, A), tool.name).toBe(control.asked && normalize(control.asked, other));
      }
      // Resources: A's pipeline reads as a missing one, and B's list has none of A's.
      const read = (id: string) => mcp.client.readResource({ uri: `constellation://pipelines/${id}` }).then(() => 'read', (e: Error) => e.message);
      const other = randomUUID();
      expect((await read(A.pipeline)).split(A.pipeline).join('<id>')).toBe((await read(other)).split(other).join('<id>'));
      expectNothingOfA(JSON.stringify(await mcp.client.listResources()), 'MCP resources');
    } finally {
      await mcp.close();
    }
  });

  /** An MCP client over the app's /mcp (Streamable HTTP) with `key`. */
  async function httpMcp(key: string) {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const client = new Client({ name: 'two-orgs', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL('http://localhost/mcp'), {
      fetch: async (url, init) => {
        const headers = new Headers(init?.headers);
        headers.set('authorization', as(key).authorization);
        return t.app.request(String(url), { ...init, headers } as RequestInit);
      },
    });
    await client.connect(transport);
    return { client, sessionId: transport.sessionId! };
  }

  it("over HTTP, /mcp with B's key serves B: A's pipeline is not found, A's session is not B's", async () => {
    const mcpB = await httpMcp(b.key);
    const mcpA = await httpMcp(a.key);
    try {
      const seen = await callTool(mcpB.client, 'get_pipeline', { pipeline_id: A.pipeline });
      expect(seen.text).toMatch(/^Error not_found:pipeline/);
      expectNothingOfA(JSON.stringify(await mcpB.client.callTool({ name: 'list_pipelines', arguments: {} })), 'MCP HTTP list_pipelines');
      // B sending a request in A's session is answered as in a session that does not exist.
      const inSession = async (sessionId: string) => {
        const res = await t.app.request('/mcp', {
          method: 'POST',
          headers: { ...as(b.key), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_pipelines', arguments: {} } }),
        });
        return { status: res.status, body: await res.text() };
      };
      const hijack = await inSession(mcpA.sessionId);
      expect(hijack).toEqual(await inSession(randomUUID()));
      expect(hijack.status).toBe(404);
      expectNothingOfA(hijack.body, "B in A's MCP session");
    } finally {
      await mcpA.client.close();
      await mcpB.client.close();
    }
  });

  it("in the chat, B's model calling tools with A's ids is told they are not found", async () => {
    for (const tool of TOOLS) {
      const entry = TOOL_ARGS[tool.name]!;
      if (!entry.targets) continue;
      const chatId = `b-${tool.name.replaceAll('_', '-')}`;
      llm.script([{ toolCalls: [{ name: tool.name, arguments: JSON.stringify(entry.args(A)), id: `call_${chatId}` }] }, { text: 'Reported.' }]);
      const turn = await sendTurn(t, chatId, [user(`${chatId}-u1`, `please ${tool.name}`)], undefined, as(b.key));
      expect(turn.error, tool.name).toBeUndefined();
      const part = toolParts(turn.message).find((p) => p.toolCallId === `call_${chatId}`);
      expectNothingOfA(JSON.stringify(turn.chunks), `chat ${tool.name}`, JSON.stringify(entry.args(A)));
      // Approval-gated tools ask the person first (nothing of A's in the asking, checked above).
      if (part?.state === 'approval-requested') continue;
      expect(part?.state, `${tool.name}: ${JSON.stringify(part)}`).toBe('output-error');
      expect(part!.errorText, tool.name).toMatch(/^Error not_found:/);
    }
  }, 60_000);
  it("B cannot answer A's approvals: not A's chat approval, not A's approval request", async () => {
    // A's model asks to delete A's pipeline: the chat pauses for A's yes.
    llm.script([{ toolCalls: [{ name: 'delete_pipeline', arguments: JSON.stringify({ pipeline_id: A.pipeline }), id: 'call_a_delete' }] }]);
    const first = user('a-del-1', 'delete it');
    const asked = await sendTurn(t, 'a-approvals', [first], undefined, as(a.key));
    const assistant = asked.message!;
    const part = toolParts(assistant).find((p) => p.toolCallId === 'call_a_delete')!;
    expect(part.state).toBe('approval-requested');
    const approved = { ...assistant, parts: assistant.parts.map((p: any) => (p.toolCallId === 'call_a_delete' ? { ...p, state: 'approval-responded', approval: { id: part.approval.id, approved: true } } : p)) };
    const answer = await t.call('POST', '/v1/chat', { id: 'a-approvals', messages: [first, approved], trigger: 'submit-message', messageId: assistant.id }, as(b.key));
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found:chat');
    expectNothingOfA(JSON.stringify(answer.body), 'B answering A\'s approval', 'a-approvals');

    // A's approval request for a gated call is A's alone: B can neither approve it nor use it.
    const mcpA = await mcpClient(t, principalOf(a));
    const mcpB = await mcpClient(t, principalOf(b));
    try {
      const args = { pipeline_id: A.pipeline, run_id: A.run };
      const issued = (await mcpA.client.callTool({ name: 'terminate_run', arguments: args })) as CallToolResult;
      const approvalId = /(apr_[\w-]+)/.exec((issued.content as Array<{ text: string }>)[0]!.text)?.[1];
      expect(approvalId).toBeDefined();
      const approve = await t.call('POST', `/v1/approvals/${approvalId}/approve`, {}, as(b.key));
      const unknown = await t.call('POST', `/v1/approvals/apr_${'x'.repeat(22)}/approve`, {}, as(b.key));
      expect(approve.status).toBe(404);
      expect(normalize(JSON.stringify(approve.body), A)).toBe(normalize(JSON.stringify(unknown.body), A));
      expectNothingOfA(JSON.stringify(approve.body), 'B approving A\'s request', approvalId!);
      // Still pending for A; B making the same call is told there is no such pipeline, before any request opens.
      expect((await t.call('GET', '/v1/approvals', undefined, as(a.key))).body.approvals.map((r: { status: string }) => r.status)).toContain('pending');
      // B's list holds B's own requests (about ids B sent), none of A's.
      expect((await t.call('GET', '/v1/approvals', undefined, as(b.key))).body.approvals.map((r: { user_id: string }) => r.user_id)).not.toContain(a.userId);
      const replayed = (await mcpB.client.callTool({ name: 'terminate_run', arguments: args })) as CallToolResult;
      const text = (replayed.content as Array<{ text: string }>)[0]!.text;
      expect(text).toMatch(/^Error not_found:pipeline/);
      expect(text).not.toMatch(/apr_/);
      expectNothingOfA(text, 'B repeating A\'s gated call', JSON.stringify(args));
    } finally {
      await mcpA.close();
      await mcpB.close();
    }
    // The pipeline is still A's.
    expect((await t.call('GET', `/v1/pipelines/${A.pipeline}`, undefined, as(a.key))).status).toBe(200);
  });
});

describe('roles, alike on REST, MCP and chat', () => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let admin: Key;
  let viewer: Key;
  let editor: Key;
  let pipelineId: string;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { authMode: 'required', llm: scriptedModel(llm) });
    admin = await t.issueKey({ org: 'org-r', user: 'ruth' });
    viewer = await t.issueKey({ org: 'org-r', user: 'vera', role: 'viewer' });
    editor = await t.issueKey({ org: 'org-r', user: 'ed', role: 'editor' });
    pipelineId = (await t.call('POST', '/v1/pipelines', spec('Roles pipeline'), as(admin.key))).body.id;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await llm?.close();
  });

  it('a viewer reads but cannot create or deploy (REST)', async () => {
    expect((await t.call('GET', `/v1/pipelines/${pipelineId}`, undefined, as(viewer.key))).status).toBe(200);
    const created = await t.call('POST', '/v1/pipelines', spec('Viewer pipeline'), as(viewer.key));
    expect(created.status).toBe(403);
    expect(created.body.error).toMatchObject({ code: 'forbidden:role', message: expect.stringContaining('editor') });
    const deployed = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' }, as(viewer.key));
    expect(deployed.status).toBe(403);
    expect(deployed.body.error.message).toContain('deployer');
    const keys = await t.call('GET', '/v1/api-keys', undefined, as(viewer.key));
    expect(keys.status).toBe(403);
    expect(keys.body.error.message).toContain('admin');
    const chatted = await t.call('POST', '/v1/chat', { id: 'viewer-chat', messages: [user('v-1', 'hi')] }, as(viewer.key));
    expect(chatted.status).toBe(403);
    expect(chatted.body.error.message).toContain('editor');
  });

  it('an editor edits but cannot deploy (REST)', async () => {
    expect((await t.call('POST', '/v1/pipelines', spec('Editor pipeline'), as(editor.key))).status).toBe(201);
    const deployed = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' }, as(editor.key));
    expect(deployed.status).toBe(403);
    expect(deployed.body.error).toMatchObject({ code: 'forbidden:role', message: expect.stringContaining('deployer') });
  });

  it('the same over MCP', async () => {
    for (const [key, role] of [[viewer, 'viewer'], [editor, 'editor']] as const) {
      const mcp = await mcpClient(t, principalOf(key, role));
      try {
        const deploy = (await mcp.client.callTool({ name: 'deploy_pipeline', arguments: { pipeline_id: pipelineId, environment: 'development', dry_run: false } })) as CallToolResult;
        expect((deploy.content as Array<{ text: string }>)[0]!.text, role).toMatch(/^Error forbidden:role: .*deployer/);
        const create = (await mcp.client.callTool({ name: 'propose_pipeline', arguments: { spec: spec(`${role} over MCP`) } })) as CallToolResult;
        if (role === 'viewer') expect((create.content as Array<{ text: string }>)[0]!.text).toMatch(/^Error forbidden:role: .*editor/);
        else expect(create.isError).toBeFalsy();
      } finally {
        await mcp.close();
      }
    }
  });

  it("the same in the chat: an editor's model cannot deploy", async () => {
    llm.script([{ toolCalls: [{ name: 'deploy_pipeline', arguments: JSON.stringify({ pipeline_id: pipelineId, environment: 'development', dry_run: false }), id: 'call_ed' }] }, { text: 'Reported.' }]);
    const turn = await sendTurn(t, 'editor-chat', [user('e-1', 'deploy it')], undefined, as(editor.key));
    const part = toolParts(turn.message).find((p) => p.toolCallId === 'call_ed');
    expect(part?.state).toBe('output-error');
    expect(part!.errorText).toMatch(/^Error forbidden:role: .*deployer/);
  });
});
