import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTestApp, type TestApp } from '../support/test-app.ts';

// Each MCP session holds a server in memory. The attack this guards against: "2,000 initialize
// calls in 3.6 s were all kept (RSS 541 → 806 MB), still held after 30 minutes idle".

const CAP = 16;
const IDLE_MS = 300;

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } };
const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** An app with authentication on, two principals' keys, and raw MCP requests through it. */
function sessionsApp(idleMs?: number) {
  const ctx = { t: undefined as unknown as TestApp, key: '', other: '' };
  beforeAll(async () => {
    ctx.t = await createTestApp('pglite', { authMode: 'required', mcp: { readOnly: false, maxSessionsPerPrincipal: CAP, ...(idleMs ? { sessionIdleMs: idleMs } : {}) } });
    ctx.key = (await ctx.t.issueKey({ org: 'acme', user: 'flooder' })).key;
    ctx.other = (await ctx.t.issueKey({ org: 'acme', user: 'bystander' })).key;
  });
  afterAll(() => ctx.t.close());

  const open = async (credential: string): Promise<string> => {
    const res = await ctx.t.app.request('/mcp', { method: 'POST', headers: { ...mcpHeaders, ...as(credential) }, body: JSON.stringify(initialize) });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    return res.headers.get('mcp-session-id')!;
  };
  const status = async (credential: string, session: string): Promise<number> => {
    const res = await ctx.t.app.request('/mcp', {
      method: 'POST',
      headers: { ...mcpHeaders, ...as(credential), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify(ping),
    });
    await res.body?.cancel();
    return res.status;
  };
  return { ctx, open, status };
}

describe('MCP sessions per principal', () => {
  const { ctx, open, status } = sessionsApp();
  it('keeps at most the cap per principal, closing the least recently used, and leaves other principals alone', async () => {
    const bystander = await open(ctx.other);
    const first = await open(ctx.key);
    const second = await open(ctx.key);
    const ids = [first, second];
    for (let i = 2; i < CAP; i++) ids.push(await open(ctx.key));
    // Used just now: the least recently used is `second`, not `first`.
    expect(await status(ctx.key, first)).toBe(200);
    ids.push(await open(ctx.key));
    expect(await status(ctx.key, second)).toBe(404);
    expect(await status(ctx.key, first)).toBe(200);

    for (let i = 0; i < 200; i++) ids.push(await open(ctx.key));
    const answers = await Promise.all(ids.map((id) => status(ctx.key, id)));
    expect(answers.filter((s) => s === 200)).toHaveLength(CAP);
    // The newest ones live; everything older answers 404, so its client initializes again.
    expect(answers.slice(-CAP).every((s) => s === 200)).toBe(true);
    expect(await status(ctx.other, bystander)).toBe(200);
  });
});

describe('MCP sessions when idle', () => {
  const { ctx, open, status } = sessionsApp(IDLE_MS);

  it('closes every session once idle for longer than the idle time', async () => {
    const ids = [await open(ctx.key), await open(ctx.other)];
    expect(await status(ctx.key, ids[0]!)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));
    expect(await status(ctx.key, ids[0]!)).toBe(404);
    expect(await status(ctx.other, ids[1]!)).toBe(404);
  });
});
