import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedModel, sendTurn, toolParts, user } from '../chat/helpers.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { mcpClient, mcpToolResult } from '../support/surfaces.ts';
import { smallSpec } from '../routes/hostile.ts';
import { as, createTestApp, type TestApp } from '../support/test-app.ts';

// The audit log: every state-changing REST request and tool call, who made it, through which
// surface, with what outcome and provenance; read by an org's admins through GET /v1/audit.

/** A small valid spec (extract → load). */
const spec = (name: string) => smallSpec(name);

describe('audit log', () => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let admin: { key: string; orgId: string; userId: string };
  let viewer: { key: string; orgId: string; userId: string };
  let other: { key: string; orgId: string; userId: string };
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { authMode: 'required', llm: scriptedModel(llm) });
    admin = await t.issueKey({ org: 'audit-a', user: 'ada' });
    viewer = await t.issueKey({ org: 'audit-a', user: 'vic', role: 'viewer' });
    other = await t.issueKey({ org: 'audit-b', user: 'bob' });
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  const entries = async (key: string, query = '') => {
    const res = await t.call('GET', `/v1/audit${query}`, undefined, as(key));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.entries as Array<Record<string, any>>;
  };

  it('records REST writes with the route, the path params, the outcome and the request id', async () => {
    const created = await t.call('POST', '/v1/pipelines', spec('Audited orders'), { ...as(admin.key), 'x-request-id': 'req-audit-1' });
    expect(created.status).toBe(201);
    const missing = await t.call('DELETE', '/v1/pipelines/7f3c1a52-9d4e-4b8a-8c21-5e6f7a8b9c0d', undefined, as(admin.key));
    expect(missing.status).toBe(404);
    await t.call('GET', `/v1/pipelines/${created.body.id}`, undefined, as(admin.key));

    const [deleted, posted] = await entries(admin.key);
    expect(posted).toMatchObject({ user_id: admin.userId, actor_kind: 'person', surface: 'rest', action: 'POST /v1/pipelines', target: {}, outcome: 'ok', provenance: { request_id: 'req-audit-1' } });
    expect(deleted).toMatchObject({ action: 'DELETE /v1/pipelines/{id}', target: { id: '7f3c1a52-9d4e-4b8a-8c21-5e6f7a8b9c0d' }, outcome: 'not_found:pipeline' });
  });

  it('records tool calls that change things (not reads), with the MCP session and request', async () => {
    const mcp = await mcpClient(t, { orgId: admin.orgId, userId: admin.userId, role: 'admin', kind: 'person' });
    try {
      const made = await mcpToolResult(mcp.client, 'propose_pipeline', { spec: spec('Audited over MCP') });
      await mcpToolResult(mcp.client, 'list_pipelines', {});
      const [latest] = await entries(admin.key);
      expect(latest).toMatchObject({ actor_kind: 'agent', surface: 'mcp', action: 'propose_pipeline', outcome: 'ok', provenance: { mcp_request_id: expect.any(String), mcp_session_id: expect.any(String) } });
      expect(made.pipeline_id ?? made.id).toBeTruthy();
    } finally {
      await mcp.close();
    }
  });

  it('records a chat turn (REST) and the tool calls its model makes (chat), with the chat and tool call ids', async () => {
    const pipeline = (await t.call('POST', '/v1/pipelines', spec('Audited in chat'), as(admin.key))).body;
    llm.script([{ toolCalls: [{ name: 'set_trigger_state', arguments: JSON.stringify({ pipeline_id: pipeline.id, state: 'paused' }), id: 'call_audit' }] }, { text: 'Done.' }]);
    const turn = await sendTurn(t, 'audit-chat', [user('au-1', 'pause it')], undefined, as(admin.key));
    expect(toolParts(turn.message)[0]).toMatchObject({ toolCallId: 'call_audit' });
    // The turn's request and its tool call are recorded as each ends: find them by action, not by order.
    const recent = (await entries(admin.key)).slice(0, 2);
    const posted = recent.find((e) => e.surface === 'rest');
    const toolCall = recent.find((e) => e.surface === 'chat');
    expect(posted).toMatchObject({ surface: 'rest', action: 'POST /v1/chat', actor_kind: 'person', outcome: 'ok' });
    expect(toolCall).toMatchObject({
      surface: 'chat',
      actor_kind: 'agent',
      action: 'set_trigger_state',
      target: { pipeline_id: pipeline.id, state: 'paused' },
      provenance: { chat_id: 'audit-chat', tool_call_id: 'call_audit' },
    });
  });

  it('pages newest first with limit and before', async () => {
    const all = await entries(admin.key);
    const first = await entries(admin.key, '?limit=1');
    expect(first).toEqual([all[0]]);
    const next = await entries(admin.key, `?limit=1&before=${first[0]!.id}`);
    expect(next).toEqual([all[1]]);
  });

  it('is for admins, and each org sees only its own', async () => {
    const refused = await t.call('GET', '/v1/audit', undefined, as(viewer.key));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('admin');
    expect(await entries(other.key)).toEqual([]);
  });

  it('records a request refused for what the store cannot hold, without its unstorable values', async () => {
    const res = await t.call('DELETE', '/v1/blocks/bad%00id', undefined, as(admin.key));
    expect(res.status).toBe(400);
    // Refused before routing reads the path's params: the entry names the route, without them.
    expect((await entries(admin.key))[0]).toMatchObject({ action: 'DELETE /v1/blocks/{id}', target: {}, outcome: 'invalid:request' });
    const mcp = await mcpClient(t, { orgId: admin.orgId, userId: admin.userId, role: 'admin', kind: 'person' });
    try {
      await mcp.client.callTool({ name: 'launch_run', arguments: { pipeline_id: 'bad\u0000id' } });
    } finally {
      await mcp.close();
    }
    expect((await entries(admin.key))[0]).toMatchObject({ action: 'launch_run', target: { unstorable: true }, outcome: 'invalid:arguments' });
    expect(t.logs.some((l) => l.msg === 'could not write the audit log')).toBe(false);
  });

  it('a write the log cannot take still answers (and the error is logged)', async () => {
    const audit = t.services.domain.audit as unknown as { db: { query: () => Promise<never> } };
    const real = audit.db;
    audit.db = { query: async () => Promise.reject(new Error('store down')) };
    try {
      const res = await t.call('POST', '/v1/pipelines', spec('Unaudited'), as(admin.key));
      expect(res.status).toBe(201);
      expect(t.logs.some((l) => l.msg === 'could not write the audit log')).toBe(true);
    } finally {
      audit.db = real;
    }
  });
});
