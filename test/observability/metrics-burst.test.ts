import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagshipSpec } from '../compile/fixtures.ts';
import { DefaultChatTransport, type UIMessage } from 'ai';
import { readTurn, scriptedModel, textOf, until, user } from '../chat/helpers.ts';
import { movedBy, parseMetrics } from '../support/metrics-text.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

const TOKEN = 'metrics-token-for-the-burst-test';
const search = (query: string) => ({ name: 'search_block_types', arguments: JSON.stringify({ query, category: null, input_type: null, output_type: null, limit: 2 }) });

// Every request this test sends goes through `send`, which tallies it by the route pattern the
// service should count it under: the HTTP counter must move by exactly that tally.
describe('/metrics after a known burst', () => {
  let llm: ScriptedLlm;
  let t: TestApp;
  const sent: Record<string, number> = {};
  const send = async (route: string, request: Request) => {
    const res = await t.app.request(request);
    const key = `constellation_http_requests_total{method="${request.method}",route="${route}",status="${res.status}"}`;
    sent[key] = (sent[key] ?? 0) + 1;
    return res;
  };
  const read = async () => {
    const res = await send('/metrics', new Request('http://localhost/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(await res.text());
  };

  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { llm: scriptedModel(llm), metricsToken: TOKEN, environments: [writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] })] });
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  it('moves each counter by exactly the requests, chat turns, tokens, tool calls and deploys of the burst', async () => {
    const before = await read();

    // REST: three searches, two reads of pipelines that do not exist (one pattern, two ids), a path no route serves.
    for (const q of ['postgres', 's3', 'dbt']) expect((await send('/v1/block-types', new Request(`http://localhost/v1/block-types?q=${q}`))).status).toBe(200);
    for (const id of [crypto.randomUUID(), crypto.randomUUID()]) expect((await send('/v1/pipelines/:id', new Request(`http://localhost/v1/pipelines/${id}`))).status).toBe(404);
    expect((await send('unmatched', new Request('http://localhost/no/such/route'))).status).toBe(404);

    // One deploy, to the write-only environment: it ends `written`.
    const created = await send('/v1/pipelines', new Request('http://localhost/v1/pipelines', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...flagshipSpec(), name: 'burst' }) }));
    const pipelineId = ((await created.json()) as { id: string }).id;
    const deploy = await send('/v1/pipelines/:id/deployments', new Request(`http://localhost/v1/pipelines/${pipelineId}/deployments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ environment: 'development' }) }));
    expect(deploy.status, await deploy.clone().text()).toBe(202);
    const deploymentId = ((await deploy.json()) as { id: string }).id;
    let status = 'pending';
    await until(async () => {
      const res = await send('/v1/deployments/:id', new Request(`http://localhost/v1/deployments/${deploymentId}`));
      status = ((await res.json()) as { status: string }).status;
      return !['pending', 'in_progress'].includes(status);
    }, 'the deploy to finish', 60_000);
    expect(status).toBe('written');

    // Two chat turns: the first calls two tools, the second one; each ends with text.
    const reportedBefore = llm.reported.length;
    llm.script([{ toolCalls: [search('postgres')] }, { toolCalls: [search('s3')] }, { text: 'Two searches done.' }, { toolCalls: [search('dbt')] }, { text: 'One search done.' }]);
    const chat = transportVia((url, init) => send('/v1/chat', new Request(String(url), init)));
    for (const [id, text] of [['burst-1', 'Two searches done.'], ['burst-2', 'One search done.']] as const) {
      const turn = await readTurn(await chat.sendMessages({ chatId: id, messages: [user(`${id}-u`, 'search')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }));
      expect(turn.error).toBeUndefined();
      expect(textOf(turn.message)).toBe(text);
    }
    // A turn ends (and counts) once its message is stored, just after its stream's last chunk.
    const finished = 'constellation_chat_turns_total{outcome="finished"}';
    await until(async () => (await read()).get(finished) === (before.get(finished) ?? 0) + 2, 'both turns to end');
    const reported = llm.reported.slice(reportedBefore);
    expect(reported).toHaveLength(5);

    // MCP: two searches and one call with arguments that do not validate, in one session.
    const client = new Client({ name: 'burst', version: '1.0.0' });
    const mcp = new StreamableHTTPClientTransport(new URL('http://localhost/mcp'), { fetch: (url, init) => send('/mcp', new Request(String(url), init as RequestInit)) });
    await client.connect(mcp);
    expect((await client.callTool({ name: 'search_block_types', arguments: { query: 'postgres', limit: 1 } })).isError).toBeFalsy();
    expect((await client.callTool({ name: 'search_block_types', arguments: { query: 'kafka', limit: 1 } })).isError).toBeFalsy();
    expect((await client.callTool({ name: 'search_block_types', arguments: { limit: 'many' } })).isError).toBe(true);
    const during = await read();
    await mcp.terminateSession();
    await client.close();

    const after = await read();
    expect(movedBy(before, after, 'constellation_http_requests_total')).toEqual(withoutLast(sent, '/metrics'));
    expect(movedBy(before, after, 'constellation_chat_turns_total')).toEqual({ 'constellation_chat_turns_total{outcome="finished"}': 2 });
    expect(movedBy(before, after, 'constellation_tool_calls_total')).toEqual({
      'constellation_tool_calls_total{outcome="ok",surface="chat",tool="search_block_types"}': 3,
      'constellation_tool_calls_total{outcome="ok",surface="mcp",tool="search_block_types"}': 2,
      'constellation_tool_calls_total{outcome="error",surface="mcp",tool="search_block_types"}': 1,
    });
    expect(movedBy(before, after, 'constellation_model_tokens_total')).toEqual({
      'constellation_model_tokens_total{direction="in"}': reported.reduce((n, u) => n + u.prompt_tokens, 0),
      'constellation_model_tokens_total{direction="out"}': reported.reduce((n, u) => n + u.completion_tokens, 0),
    });
    expect(movedBy(before, after, 'constellation_deploys_total')).toEqual({ 'constellation_deploys_total{outcome="written"}': 1 });
    // The session was open at the read in between, and is closed now; every chat stream was read to its end.
    expect(movedBy(before, during, 'constellation_mcp_sessions_open')).toEqual({ constellation_mcp_sessions_open: 1 });
    expect(movedBy(before, after, 'constellation_mcp_sessions_open')).toEqual({});
    expect(after.get('constellation_chat_streams_open')).toBe(0);
  });

  it('counts a chat stream as open while a client reads it, and the stopped turn by its outcome', async () => {
    const before = await read();
    llm.script([{ hang: true, text: 'thinking' }]);
    const stream = await transportVia(async (url, init) => t.app.request(String(url), init)).sendMessages({ chatId: 'held', messages: [user('held-u', 'wait')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
    const reading = readTurn(stream);
    await until(async () => (await read()).get('constellation_chat_streams_open') === 1, 'the stream to count as open');
    expect((await t.call('POST', '/v1/chat/held/stop')).body).toEqual({ stopped: true });
    await reading;
    await until(async () => (await read()).get('constellation_chat_streams_open') === 0, 'the stream to count as closed');
    // The stream ends with the turn's last chunk; the turn itself ends once its message is stored.
    const stopped = 'constellation_chat_turns_total{outcome="stopped"}';
    await until(async () => (await read()).get(stopped) === (before.get(stopped) ?? 0) + 1, 'the stopped turn to count');
    expect(movedBy(before, await read(), 'constellation_chat_turns_total')).toEqual({ 'constellation_chat_turns_total{outcome="stopped"}': 1 });
  });
});

/** useChat's transport, its requests sent by `fetch`. */
const transportVia = (fetch: (url: string | URL | Request, init?: RequestInit) => Promise<Response>) => new DefaultChatTransport<UIMessage>({ api: 'http://localhost/v1/chat', fetch: (url, init) => fetch(url, init as RequestInit) });

/** The tally without the last /metrics read (a read is counted once it is answered, so the one that reads does not see itself). */
function withoutLast(sent: Record<string, number>, route: string): Record<string, number> {
  const key = `constellation_http_requests_total{method="GET",route="${route}",status="200"}`;
  const copy = { ...sent, [key]: (sent[key] ?? 0) - 1 };
  if (copy[key] === 0) delete copy[key];
  return copy;
}
