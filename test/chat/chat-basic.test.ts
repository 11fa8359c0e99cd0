import { DefaultChatTransport, readUIMessageStream, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { scriptedModel } from './helpers.ts';

describe('chat turn with a scripted model', () => {
  let llm: ScriptedLlm;
  let t: TestApp;
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { llm: scriptedModel(llm) });
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  const transport = () => new DefaultChatTransport<UIMessage>({ api: 'http://localhost/v1/chat', fetch: async (url, init) => t.app.request(String(url), init as RequestInit) });
  const send = async (chatId: string, messages: UIMessage[]) => {
    const stream = await transport().sendMessages({ chatId, messages, trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
    let last: UIMessage | undefined;
    for await (const m of readUIMessageStream({ stream, terminateOnError: true })) last = m;
    return last!;
  };
  const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

  it('streams a tool call and an answer, and stores the conversation', async () => {
    llm.script([
      { toolCalls: [{ name: 'search_block_types', arguments: JSON.stringify({ query: 'postgres', category: null, input_type: null, output_type: null, limit: 3 }) }] },
      (req) => ({ text: `Found: ${String(req.messages.at(-1)?.content).includes('postgres_incremental_extract@1') ? 'postgres_incremental_extract@1' : 'nothing'}` }),
    ]);
    const reply = await send('chat-1', [user('u1', 'find me a postgres block')]);
    const tool = reply.parts.find((p) => p.type === 'tool-search_block_types') as any;
    expect(tool.state).toBe('output-available');
    expect(tool.output.results[0].block_type.ref).toBe('postgres_incremental_extract@1');
    expect(reply.parts.filter((p) => p.type === 'text').map((p: any) => p.text).join('')).toBe('Found: postgres_incremental_extract@1');
    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[0]!.parallel_tool_calls).toBe(false);
    const stored = await t.call('GET', '/v1/chats/chat-1');
    expect(stored.body.messages.map((m: UIMessage) => m.role)).toEqual(['user', 'assistant']);
    expect(stored.body.messages[1].id).toBe(reply.id);
  });

  it('answers 503 naming the variable when no model is configured', async () => {
    const bare = await createTestApp('pglite');
    const res = await bare.call('POST', '/v1/chat', { id: 'c', messages: [user('u', 'hi')] });
    expect(res.status).toBe(503);
    expect(res.body.error.hint).toContain('OPENAI_API_KEY');
    await bare.close();
  });
});
