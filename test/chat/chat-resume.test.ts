import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedLlm, type ScriptedLlm, type ScriptStep } from '../support/scripted-llm.ts';
import { freshKv, KV_KINDS } from '../support/kvs.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { normalizeIds, readTurn, scriptedModel, textOf, toolParts, until, user } from './helpers.ts';

const ANSWER =
  'postgres_incremental_extract@1 reads new and changed rows from a Postgres table using a cursor column. ' +
  'Pair it with a load block such as clickhouse_replacing_merge_tree_load@1, connect the rows ports, and ' +
  'give both blocks the names of the secrets that hold their connection strings. Shall I draft the spec?';

/** Two steps: a little text and a tool call, then a long streamed answer. */
const SCRIPT = (): ScriptStep[] => [
  {
    text: 'Let me look that up in the catalog.',
    toolCalls: [{ name: 'search_block_types', arguments: JSON.stringify({ query: 'postgres', category: null, input_type: null, output_type: null, limit: 3 }) }],
  },
  { text: ANSWER },
];
const STEPS = 2;

/**
 * Over real HTTP (so a dropped client really closes its connection) to the app, with a model that
 * streams one token every few milliseconds, so a turn is still running when a client drops. The
 * turn log is in memory or in Redis; the two-instance case is test/e2e (two service processes).
 */
describe.each(KV_KINDS)('resumable chat streams on the %s KV', (kind) => {
  let llm: ScriptedLlm;
  let t: TestApp;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    llm = await startScriptedLlm({ tokenDelayMs: 25 });
    t = await createTestApp('pglite', { llm: scriptedModel(llm), kv: await freshKv(kind) });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve()) as Server;
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await t.close();
    await llm.close();
  });

  const transport = () => new DefaultChatTransport<UIMessage>({ api: `${base}/v1/chat` });
  const send = (chatId: string, messages: UIMessage[], abortSignal?: AbortSignal) =>
    transport().sendMessages({ chatId, messages, trigger: 'submit-message', messageId: undefined, abortSignal });
  const stored = async (chatId: string) => (await t.call('GET', `/v1/chats/${chatId}`)).body.messages as UIMessage[];

  /**
   * Reads as useChat does until `at` holds for the message so far, then drops the connection.
   * False when the stream ended first.
   */
  async function readUntilDrop(stream: ReadableStream<UIMessageChunk>, controller: AbortController, at: (m: UIMessage) => boolean): Promise<boolean> {
    for await (const m of readUIMessageStream<UIMessage>({ stream, terminateOnError: true })) {
      if (at(m)) {
        controller.abort();
        return true;
      }
    }
    return false;
  }

  const steps = (m: UIMessage) => m.parts.filter((p) => p.type === 'step-start').length;
  const DROPS: Array<{ name: string; at: (m: UIMessage) => boolean }> = [
    { name: 'before the first tool call', at: (m) => textOf(m).length > 0 && toolParts(m).length === 0 },
    { name: 'mid-tool (its arguments half streamed)', at: (m) => toolParts(m)[0]?.state === 'input-streaming' && typeof toolParts(m)[0]?.input === 'object' },
    // Early in the answer, so the turn (about a second more) is surely still running at the reconnect.
    { name: 'mid-text of the answer', at: (m) => steps(m) === 2 && m.parts.at(-1)?.type === 'text' && (m.parts.at(-1) as { state?: string }).state === 'streaming' && textOf(m).length > 'Let me look that up in the catalog.'.length },
  ];

  let undropped: UIMessage;

  it('streams the whole turn to a client that stays', async () => {
    const before = llm.requests.length;
    llm.script(SCRIPT());
    const turn = await readTurn(await send('steady', [user('u1', 'which block reads postgres?')]));
    expect(turn.error).toBeUndefined();
    expect(llm.requests.length - before).toBe(STEPS);
    undropped = turn.message!;
    expect(toolParts(undropped)[0]).toMatchObject({ type: 'tool-search_block_types', state: 'output-available' });
    expect(textOf(undropped)).toBe(`Let me look that up in the catalog.${ANSWER}`);
    expect(normalizeIds((await stored('steady'))[1])).toEqual(normalizeIds(undropped));
    // Nothing runs any more.
    expect((await fetch(`${base}/v1/chat/steady/stream`)).status).toBe(204);
  });

  it('resumes after drops before the first tool call, mid-tool and mid-text, ending with the same message', async () => {
    const before = llm.requests.length;
    const abortedBefore = llm.aborted;
    llm.script(SCRIPT());
    let controller = new AbortController();
    let stream: ReadableStream<UIMessageChunk> | null = await send('dropped', [user('u1', 'which block reads postgres?')], controller.signal);
    for (const drop of DROPS) {
      expect(await readUntilDrop(stream!, controller, drop.at), `dropped ${drop.name}`).toBe(true);
      controller = new AbortController();
      stream = await transport().reconnectToStream({ chatId: 'dropped', abortSignal: controller.signal });
      expect(stream, `a turn to resume after dropping ${drop.name}`).not.toBeNull();
    }
    const resumed = await readTurn(stream!);
    expect(resumed.error).toBeUndefined();
    expect(resumed.chunks.at(-1)?.type).toBe('finish');
    expect(normalizeIds(resumed.message)).toEqual(normalizeIds(undropped));

    // The drops cost the model nothing: one upstream request per step, none aborted.
    expect(llm.requests.length - before).toBe(STEPS);
    expect(llm.aborted).toBe(abortedBefore);
    const [, assistant] = await stored('dropped');
    expect(normalizeIds(assistant)).toEqual(normalizeIds(undropped));
    // Normalizing aside, the resumed message is the stored one, id and all.
    expect(resumed.message!.id).toMatch(/^msg_/);
    expect(resumed.message!.id).toBe(assistant!.id);
    expect(await transport().reconnectToStream({ chatId: 'dropped' })).toBeNull();
  });

  it('finishes a turn whose client dropped and never came back', async () => {
    const before = llm.requests.length;
    llm.script(SCRIPT());
    const controller = new AbortController();
    const stream = await send('abandoned', [user('u1', 'which block reads postgres?')], controller.signal);
    expect(await readUntilDrop(stream, controller, DROPS[1]!.at)).toBe(true);
    await until(
      async () => {
        const res = await fetch(`${base}/v1/chat/abandoned/stream`);
        await res.body?.cancel();
        return res.status === 204;
      },
      'the turn to finish',
      15_000,
    );
    expect(llm.requests.length - before).toBe(STEPS);
    const messages = await stored('abandoned');
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(normalizeIds(messages[1])).toEqual(normalizeIds(undropped));
  });

  it('replays only what follows Last-Event-ID, then follows live', async () => {
    llm.script(SCRIPT());
    const first = await fetch(`${base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'last-event', messages: [user('u1', 'which block reads postgres?')], trigger: 'submit-message' }),
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const [whole, fromStart, after] = await Promise.all([
      sse(first),
      fetch(`${base}/v1/chat/last-event/stream`).then(sse),
      fetch(`${base}/v1/chat/last-event/stream`, { headers: { 'Last-Event-ID': '3' } }).then(sse),
    ]);
    // Every reader gets numbered events ending in [DONE]; the resumed ones the same as the POST's.
    expect(whole.events.map((e) => e.id)).toEqual(whole.events.map((_, i) => String(i)));
    expect(whole.done).toBe(true);
    expect(fromStart).toEqual(whole);
    expect(after.done).toBe(true);
    expect(after.events[0]!.id).toBe('4');
    expect(after.events).toEqual(whole.events.slice(4));
    // Still a valid turn for the AI SDK's reader.
    expect(whole.events.at(-1)!.data).toEqual({ type: 'finish' });
  });

  it('answers 204 when no turn runs, and 404 for an unknown chat', async () => {
    const res = await fetch(`${base}/v1/chat/steady/stream`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await fetch(`${base}/v1/chat/unknown-chat/stream`)).status).toBe(404);
  });
});

/** Reads an SSE response whole: each event's id and parsed data, and whether it ended with [DONE]. */
async function sse(res: Response): Promise<{ events: Array<{ id: string | undefined; data: unknown }>; done: boolean }> {
  expect(res.status).toBe(200);
  const text = await res.text();
  const events: Array<{ id: string | undefined; data: unknown }> = [];
  let done = false;
  for (const block of text.split('\n\n').filter(Boolean)) {
    const id = /^id: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (data === '[DONE]') done = true;
    else if (data !== undefined) events.push({ id, data: JSON.parse(data) });
  }
  return { events, done };
}
