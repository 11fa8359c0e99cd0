import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, Limits, limitsFromConfig } from '../../src/auth/limits.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { mcpOptions } from '../../src/mcp-options.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { AppError } from '../../src/errors.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { sendTurn, scriptedModel, user } from '../chat/helpers.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { chatToolError, mcpClient, mcpToolError, mcpToolResult } from '../support/surfaces.ts';
import { freshKv, KV_KINDS, kvPerTest } from '../support/kvs.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

const alice = { userId: 'alice', orgId: 'org' };
const bob = { userId: 'bob', orgId: 'org' };

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(() => null, (e: unknown) => e);
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

describe('limits in config', () => {
  it('defaults, reads and checks the variables', () => {
    expect(limitsFromConfig(loadConfig({}))).toEqual(DEFAULT_LIMITS);
    expect(limitsFromConfig(loadConfig({ RATE_LIMIT_DEPLOYS_PER_MINUTE: '3', CHAT_DAILY_TOKEN_BUDGET: '0' }))).toMatchObject({ deploysPerMinute: 3, chatDailyTokenBudget: 0 });
    expect(() => loadConfig({ RATE_LIMIT_TOOL_CALLS_PER_MINUTE: 'lots' })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_TOOL_CALLS_PER_MINUTE: 'lots' })).toThrow(/RATE_LIMIT_TOOL_CALLS_PER_MINUTE/);
    expect(mcpOptions(loadConfig({}))).toMatchObject({ maxSessionsPerPrincipal: 16, sessionIdleMs: 600_000 });
    expect(mcpOptions(loadConfig({ MCP_MAX_SESSIONS_PER_PRINCIPAL: '4', MCP_SESSION_IDLE_SECONDS: '5' }))).toMatchObject({ maxSessionsPerPrincipal: 4, sessionIdleMs: 5000 });
  });
});

// The counters are KV counters: in memory, and in Redis (where every instance counts in the same ones).
describe.each(KV_KINDS)('Limits on the %s KV', (kind) => {
  const fresh = kvPerTest(kind);

  it('counts per user in fixed minute windows and names the exact wait', async () => {
    let now = Date.parse('2026-03-01T12:00:10.400Z');
    const limits = new Limits(await fresh(), { chatTurnsPerMinute: 2 }, () => now);
    await limits.take(alice, 'chat_turn');
    await limits.take(alice, 'chat_turn');
    const error = await refusal(limits.take(alice, 'chat_turn'));
    expect(error.code).toBe('too_many_requests:chat_turn');
    expect(error.status).toBe(429);
    // 49.6 s left in the window: whole seconds, rounded up.
    expect(error.headers).toEqual({ 'retry-after': '50' });
    expect(error.message).toContain('try again in 50 s');
    // Another user, and another kind of action, have their own counters.
    await limits.take(bob, 'chat_turn');
    await limits.take(alice, 'tool_call');
    now = Date.parse('2026-03-01T12:01:00.000Z');
    await limits.take(alice, 'chat_turn');
  });

  it('counts a user\'s actions on every instance together', async () => {
    const kv = await fresh();
    const other = await kv.another();
    const now = () => Date.parse('2026-03-01T12:00:10Z');
    const [here, there] = [new Limits(kv, { deploysPerMinute: 2 }, now), new Limits(other, { deploysPerMinute: 2 }, now)];
    await here.take(alice, 'deploy');
    await there.take(alice, 'deploy');
    expect((await refusal(here.take(alice, 'deploy'))).code).toBe('too_many_requests:deploy');
    expect((await refusal(there.take(alice, 'deploy'))).code).toBe('too_many_requests:deploy');
  });

  it('takes 0 as no limit', async () => {
    const limits = new Limits(await fresh(), { deploysPerMinute: 0 });
    for (let i = 0; i < 50; i++) await limits.take(alice, 'deploy');
  });

  it('refuses a chat turn once the day\'s tokens are spent, until midnight UTC', async () => {
    let now = Date.parse('2026-03-01T23:59:00.500Z');
    const limits = new Limits(await fresh(), { chatDailyTokenBudget: 1000 }, () => now);
    await limits.addTokens(alice, 999);
    await limits.checkTokenBudget(alice);
    await limits.addTokens(alice, 1);
    const error = await refusal(limits.checkTokenBudget(alice));
    expect(error.code).toBe('too_many_requests:token_budget');
    expect(error.headers).toEqual({ 'retry-after': '60' });
    await limits.checkTokenBudget(bob);
    now = Date.parse('2026-03-02T00:00:00.000Z');
    await limits.checkTokenBudget(alice);
  });
});

describe.each(KV_KINDS)('rate limits on every surface, on the %s KV', (kind) => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let now = Date.parse('2026-03-01T12:00:20Z');
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', {
      environments: [writeOnlyEnvironment('staging', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] })],
      limits: { deploysPerMinute: 2, toolCallsPerMinute: 6, chatTurnsPerMinute: 2, chatDailyTokenBudget: 0 },
      now: () => now,
      llm: scriptedModel(llm),
      kv: await freshKv(kind),
    });
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  it('counts deploys from REST and MCP alike, not previews, and answers 429 with retry-after', async () => {
    const id = (await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name: 'limited' })).body.id as string;
    const mcp = await mcpClient(t);
    try {
      // Previews are not deploys.
      for (let i = 0; i < 2; i++) expect((await mcpToolResult(mcp.client, 'deploy_pipeline', { pipeline_id: id, environment: 'staging', dry_run: true })).dry_run).toBe(true);
      expect((await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging' })).status).toBe(202);
      expect((await mcpToolResult(mcp.client, 'deploy_pipeline', { pipeline_id: id, environment: 'staging', dry_run: false })).dry_run).toBe(false);

      const rest = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging' });
      expect(rest.status).toBe(429);
      expect(rest.body.error.code).toBe('too_many_requests:deploy');
      expect(rest.headers.get('retry-after')).toBe('40');
      const tool = await mcpToolError(mcp.client, 'deploy_pipeline', { pipeline_id: id, environment: 'staging', dry_run: false });
      expect(tool.code).toBe('too_many_requests:deploy');
      expect(tool.text).toContain('try again in 40 s');

      // Four tool calls so far this minute (a refused deploy counts too); six are allowed.
      await mcpToolResult(mcp.client, 'list_environments', {});
      await mcpToolResult(mcp.client, 'list_environments', {});
      const tooMany = await mcpToolError(mcp.client, 'list_environments', {});
      expect(tooMany.code).toBe('too_many_requests:tool_call');
      expect(tooMany.text).toContain('try again in 40 s');

      now += 40_000;
      expect((await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'staging' })).status).toBe(202);
    } finally {
      await mcp.close();
    }
  });

  it('counts a chat\'s tool calls with MCP\'s, and tells the model how long to wait', async () => {
    now = Date.parse('2026-03-01T12:10:30Z');
    const mcp = await mcpClient(t);
    try {
      for (let i = 0; i < 6; i++) await mcpToolResult(mcp.client, 'list_environments', {});
    } finally {
      await mcp.close();
    }
    const error = await chatToolError(t, llm, 'limited-tools', 'list_environments', {});
    expect(error.code).toBe('too_many_requests:tool_call');
    expect(error.text).toContain('try again in 30 s');
  });

  it('counts chat turns', async () => {
    now = Date.parse('2026-03-01T12:05:45Z');
    for (const chat of ['limited-1', 'limited-2']) {
      llm.script([{ text: 'hello' }]);
      const turn = await sendTurn(t, chat, [user(`${chat}-u`, 'hi')]);
      expect(turn.error).toBeUndefined();
    }
    const res = await t.call('POST', '/v1/chat', { id: 'limited-3', messages: [user('limited-3-u', 'hi')] });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('too_many_requests:chat_turn');
    expect(res.headers.get('retry-after')).toBe('15');
  });
});

describe.each(KV_KINDS)('daily chat token budget on the %s KV', (kind) => {
  let t: TestApp;
  let llm: ScriptedLlm;
  const now = Date.parse('2026-03-01T20:00:00Z');
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { limits: { chatDailyTokenBudget: 1 }, now: () => now, llm: scriptedModel(llm), kv: await freshKv(kind) });
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  it('adds each step\'s tokens and refuses the next turn until midnight UTC', async () => {
    llm.script([{ toolCalls: [{ name: 'list_environments', arguments: '{}' }] }, { text: 'One environment.' }]);
    const turn = await sendTurn(t, 'budget-1', [user('budget-1-u', 'which environments?')]);
    expect(turn.error).toBeUndefined();
    // Both steps count, input and output.
    expect(llm.reported).toHaveLength(2);
    const spent = llm.reported.reduce((sum, u) => sum + u.prompt_tokens + u.completion_tokens, 0);
    expect(await t.services.kv.get(`tokens:chat:${LOCAL_PRINCIPAL.userId}:2026-03-01`)).toBe(String(spent));

    const res = await t.call('POST', '/v1/chat', { id: 'budget-2', messages: [user('budget-2-u', 'again')] });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('too_many_requests:token_budget');
    expect(res.headers.get('retry-after')).toBe(String(4 * 3600));
    expect(llm.requests).toHaveLength(2);
  });
});
