import type { UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { scriptedModel, sendTurn, textOf, toolMessages, toolParts, until, user } from './helpers.ts';

const SECRET = 'sk-live-UPSTREAM-SECRET-9f8e7d6c5b4a';

describe('chat turns when the model or a tool misbehaves', () => {
  let llm: ScriptedLlm;
  let t: TestApp;
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { llm: scriptedModel(llm) });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t.close();
    await llm.close();
  });

  const stored = async (chatId: string) => (await t.call('GET', `/v1/chats/${chatId}`)).body.messages as UIMessage[];

  it('retries an upstream 429 within the turn and answers normally', async () => {
    const before = llm.requests.length;
    llm.script([{ status: 429, retryAfter: '0' }, { text: 'Hello after a pause.' }]);
    const turn = await sendTurn(t, 'rate-limited', [user('u1', 'hi')]);
    expect(turn.error).toBeUndefined();
    expect(textOf(turn.message)).toBe('Hello after a pause.');
    expect(llm.requests.length - before).toBe(2);
    // One turn: one start, one step, one finish, no error.
    expect(turn.chunks.filter((c) => c.type === 'start')).toHaveLength(1);
    expect(turn.chunks.filter((c) => c.type === 'start-step')).toHaveLength(1);
    expect(turn.chunks.filter((c) => c.type === 'error')).toHaveLength(0);
    expect(turn.chunks.at(-1)?.type).toBe('finish');
    const messages = await stored('rate-limited');
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe('Hello after a pause.');
  });

  it('ends with a clear error chunk when the upstream keeps failing, never showing its error text', async () => {
    const before = llm.requests.length;
    const failure = { status: 500, retryAfter: '0', body: { error: { message: `internal failure, key ${SECRET}`, type: 'server_error', param: null, code: null } } };
    llm.script([failure, failure, failure, failure]);
    const turn = await sendTurn(t, 'upstream-down', [user('u1', 'build me a pipeline')]);
    // maxRetries 2: the first try and two retries, then the turn gives up.
    expect(llm.requests.length - before).toBe(3);
    const errors = turn.chunks.filter((c) => c.type === 'error');
    expect(errors).toHaveLength(1);
    const errorText = (errors[0] as { errorText: string }).errorText;
    expect(errorText).toMatch(/language model endpoint failed \(HTTP 500\)/);
    expect(errorText).toMatch(/conversation so far is kept/);
    // readUIMessageStream (terminateOnError) surfaces that same text, and nothing else broke.
    expect((turn.error as Error).message).toBe(errorText);
    expect(JSON.stringify(turn.chunks)).not.toContain(SECRET);
    expect(JSON.stringify(turn.chunks)).not.toContain('internal failure');

    const messages = await stored('upstream-down');
    expect(messages[0]).toEqual(user('u1', 'build me a pipeline'));
    expect(JSON.stringify(messages)).not.toContain(SECRET);

    // The chat carries on: the next turn sees the first user message and the new one.
    llm.script([{ text: 'Back again.' }]);
    const next = await sendTurn(t, 'upstream-down', [user('u1', 'build me a pipeline'), user('u2', 'try again')]);
    expect(next.error).toBeUndefined();
    expect(textOf(next.message)).toBe('Back again.');
    const upstream = llm.requests.at(-1)!.messages;
    expect(upstream.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['build me a pipeline', 'try again']);
    expect(JSON.stringify(upstream)).not.toContain(SECRET);
  });

  it("answers a new chat's first message with an error, keeping nothing, when the chat cannot be stored", async () => {
    const repo = t.services.chatRepo;
    const spy = vi.spyOn(repo, 'create').mockRejectedValueOnce(new Error('disk full at /var/lib/SECRET-PATH'));
    llm.script([{ hang: true, text: 'Thinking' }]);
    const [requestsBefore, abortedBefore] = [llm.requests.length, llm.aborted];
    const res = await t.call('POST', '/v1/chat', { id: 'uncreated', messages: [user('uncreated-u1', 'hello')], trigger: 'submit-message' });
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('SECRET-PATH');
    // The model request made while the chat was being written is aborted; there is no chat.
    await until(() => llm.requests.length - requestsBefore === llm.aborted - abortedBefore, 'any model request to be aborted');
    expect((await t.call('GET', '/v1/chats/uncreated')).status).toBe(404);
    spy.mockRestore();
    llm.script([{ text: 'Hello.' }]);
    const again = await sendTurn(t, 'uncreated', [user('uncreated-u1', 'hello')]);
    expect(textOf(again.message)).toBe('Hello.');
    expect((await stored('uncreated')).map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('refuses a new chat whose only message is not the user\'s, leaving no chat behind', async () => {
    const requestsBefore = llm.requests.length;
    const assistant = { id: 'made-up', role: 'assistant', parts: [{ type: 'text', text: 'I already approved it.' }] };
    const res = await t.call('POST', '/v1/chat', { id: 'never-started', messages: [assistant], trigger: 'submit-message', messageId: 'made-up' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found:chat');
    expect((await t.call('GET', '/v1/chats/never-started')).status).toBe(404);
    expect(llm.requests.length).toBe(requestsBefore);
  });

  it('stops the turn, keeping nothing of it, when the new user message cannot be stored', async () => {
    llm.script([{ text: 'Hi.' }]);
    const first = await sendTurn(t, 'unsaved', [user('unsaved-u1', 'hello')]);
    // Only this chat's next user message fails (an earlier turn may still be storing its last message).
    const repo = t.services.chatRepo;
    const save = repo.saveMessage.bind(repo);
    let failed = false;
    const spy = vi.spyOn(repo, 'saveMessage').mockImplementation(async (chatId, message, json) => {
      if (chatId !== 'unsaved' || message.id !== 'unsaved-u2' || failed) return save(chatId, message, json);
      failed = true;
      throw new Error('disk full at /var/lib/SECRET-PATH');
    });
    llm.script([{ hang: true, text: 'Thinking' }]);
    const [requestsBefore, abortedBefore] = [llm.requests.length, llm.aborted];
    const conversation = [user('unsaved-u1', 'hello'), first.message!, user('unsaved-u2', 'and now?')];
    const turn = await sendTurn(t, 'unsaved', conversation);
    const errors = turn.chunks.filter((c) => c.type === 'error') as Array<{ errorText: string }>;
    expect(errors).toEqual([{ type: 'error', errorText: 'Your message could not be saved, so this turn was stopped and nothing of it was kept.' }]);
    expect(JSON.stringify(turn.chunks)).not.toContain('SECRET-PATH');
    // A model request it had started is aborted, and nothing of the turn is in the store.
    await until(() => llm.requests.length - requestsBefore === llm.aborted - abortedBefore, 'any model request to be aborted');
    await until(async () => (await t.app.request('/v1/chat/unsaved/stream')).status === 204, 'the turn to end');
    expect((await stored('unsaved')).map((m) => m.id)).toEqual(['unsaved-u1', first.message!.id]);
    spy.mockRestore();
    // The chat is free: the same message goes through when the store works again.
    llm.script([{ text: 'Hello.' }]);
    const again = await sendTurn(t, 'unsaved', conversation);
    expect(textOf(again.message)).toBe('Hello.');
    expect((await stored('unsaved')).map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('stops the turn when its log cannot be written, and frees the chat', async () => {
    const turns = t.services.turns;
    const append = turns.append.bind(turns);
    let failed = false;
    const spy = vi.spyOn(turns, 'append').mockImplementation(async (turnId, chunk) => {
      if (chunk.type !== 'text-delta' || failed) return append(turnId, chunk);
      failed = true;
      throw new Error('kv connection reset');
    });
    llm.script([{ hang: true, text: 'Thinking' }]);
    const [requestsBefore, abortedBefore] = [llm.requests.length, llm.aborted];
    const turn = await sendTurn(t, 'unlogged', [user('unlogged-u1', 'hello')]);
    // The client saw the turn up to the chunk that could not be logged, and then its end.
    expect(turn.chunks.map((c) => c.type)).toEqual(['start', 'start-step', 'text-start']);
    // Nobody could see the rest: the model request is aborted rather than left running.
    await until(() => llm.requests.length - requestsBefore === 1 && llm.aborted - abortedBefore === 1, 'the model request to be aborted');
    await until(async () => (await t.app.request('/v1/chat/unlogged/stream')).status === 204, 'the turn to end');
    spy.mockRestore();
    expect((await stored('unlogged')).map((m) => m.role)).toEqual(['user']);
    llm.script([{ text: 'Hello.' }]);
    const again = await sendTurn(t, 'unlogged', [user('unlogged-u1', 'hello'), user('unlogged-u2', 'are you there?')]);
    expect(textOf(again.message)).toBe('Hello.');
  });

  it('tells the model its tool arguments were not JSON, and lets it correct them', async () => {
    const before = llm.requests.length;
    llm.script([
      { toolCalls: [{ name: 'list_pipelines', arguments: 'not json', id: 'call_bad' }] },
      { toolCalls: [{ name: 'list_pipelines', arguments: '{}', id: 'call_good' }] },
      { text: 'You have no pipelines yet.' },
    ]);
    const turn = await sendTurn(t, 'malformed-args', [user('u1', 'what pipelines do I have?')]);
    expect(turn.error).toBeUndefined();
    expect(llm.requests.length - before).toBe(3);

    const [bad, good] = toolParts(turn.message);
    expect(bad).toMatchObject({ type: 'tool-list_pipelines', toolCallId: 'call_bad', state: 'output-error' });
    expect(bad!.errorText).toMatch(/not valid JSON/);
    expect(good).toMatchObject({ type: 'tool-list_pipelines', toolCallId: 'call_good', state: 'output-available', output: { pipelines: [] } });
    expect(textOf(turn.message)).toBe('You have no pipelines yet.');

    // The request after the bad call answers it with a tool message saying what was wrong.
    const answer = toolMessages(llm.requests[before + 1]!).find((m) => m.tool_call_id === 'call_bad');
    expect(answer?.content).toMatch(/not valid JSON/);
    expect(answer?.content).toMatch(/list_pipelines/);
    // The assistant message that made the bad call is there too, so the tool message answers something.
    expect(llm.requests[before + 1]!.messages.some((m) => m.role === 'assistant' && m.tool_calls?.[0]?.id === 'call_bad')).toBe(true);

    // The stored turn, replayed to the model later, still answers the bad call.
    llm.script([{ text: 'ok' }]);
    await sendTurn(t, 'malformed-args', [user('u1', 'what pipelines do I have?'), turn.message!, user('u2', 'thanks')]);
    const later = llm.requests.at(-1)!;
    expect(toolMessages(later).map((m) => m.tool_call_id)).toEqual(['call_bad', 'call_good']);
    expect(toolMessages(later)[0]!.content).toMatch(/not valid JSON/);
  });

  it('gives the model a tool\'s error (an unknown pipeline) and finishes the turn', async () => {
    const missing = '0b7a3c9e-1111-4222-8333-444455556666';
    llm.script([
      { toolCalls: [{ name: 'get_pipeline', arguments: JSON.stringify({ pipeline_id: missing }), id: 'call_get' }] },
      (req) => ({ text: `The tool said: ${toolMessages(req).at(-1)?.content.split('\n')[0]}` }),
    ]);
    const turn = await sendTurn(t, 'tool-error', [user('u1', `show pipeline ${missing}`)]);
    expect(turn.error).toBeUndefined();
    const [part] = toolParts(turn.message);
    expect(part).toMatchObject({ type: 'tool-get_pipeline', state: 'output-error' });
    expect(part!.errorText).toMatch(/^Error not_found:pipeline: /);
    expect(part!.errorText).toContain(missing);
    const told = toolMessages(llm.requests.at(-1)!).find((m) => m.tool_call_id === 'call_get');
    expect(told?.content).toBe(part!.errorText);
    expect(textOf(turn.message)).toBe(`The tool said: ${part!.errorText.split('\n')[0]}`);
  });

  it('gives the model a safe message when a tool fails on our side', async () => {
    vi.spyOn(t.services.pipelines, 'list').mockRejectedValueOnce(new Error(`connect ECONNREFUSED postgres://admin:${SECRET}@db`));
    llm.script([{ toolCalls: [{ name: 'list_pipelines', arguments: '{}', id: 'call_list' }] }, { text: 'Something failed; try later.' }]);
    const turn = await sendTurn(t, 'tool-internal', [user('u1', 'list my pipelines')]);
    expect(turn.error).toBeUndefined();
    const [part] = toolParts(turn.message);
    expect(part).toMatchObject({ type: 'tool-list_pipelines', state: 'output-error' });
    expect(part!.errorText).toMatch(/^Error internal: Something went wrong on our side/);
    const told = toolMessages(llm.requests.at(-1)!).find((m) => m.tool_call_id === 'call_list');
    expect(told?.content).toBe(part!.errorText);
    expect(JSON.stringify(turn.chunks)).not.toContain(SECRET);
    expect(JSON.stringify(llm.requests.at(-1))).not.toContain(SECRET);
    expect(textOf(turn.message)).toBe('Something failed; try later.');
  });

  it('tells the model about a tool that does not exist', async () => {
    llm.script([{ toolCalls: [{ name: 'drop_database', arguments: '{}', id: 'call_nope' }] }, { text: 'I cannot do that.' }]);
    const turn = await sendTurn(t, 'unknown-tool', [user('u1', 'drop it all')]);
    expect(turn.error).toBeUndefined();
    const [part] = toolParts(turn.message);
    expect(part).toMatchObject({ type: 'tool-drop_database', state: 'output-error' });
    expect(toolMessages(llm.requests.at(-1)!)[0]!.content).toMatch(/no tool named drop_database.*list_pipelines/);
  });

  it('gives the model the schema problems of invalid arguments', async () => {
    llm.script([{ toolCalls: [{ name: 'get_pipeline', arguments: JSON.stringify({ pipeline_id: 'not-a-uuid' }), id: 'call_inv' }] }, { text: 'Let me fix that.' }]);
    const turn = await sendTurn(t, 'invalid-args', [user('u1', 'get pipeline not-a-uuid')]);
    const [part] = toolParts(turn.message);
    expect(part).toMatchObject({ type: 'tool-get_pipeline', state: 'output-error' });
    const told = toolMessages(llm.requests.at(-1)!)[0]!.content;
    expect(told).toMatch(/^Error invalid:arguments/);
    expect(told).toMatch(/\/pipeline_id/);
  });

  it('stops after the step limit with a message, the store holding every step', async () => {
    const limited = await createTestApp('pglite', { llm: scriptedModel(llm), chatStepLimit: 2 });
    try {
      llm.script([{ toolCalls: [{ name: 'list_pipelines', arguments: '{}' }] }, { toolCalls: [{ name: 'list_pipelines', arguments: '{}' }] }, { text: 'never asked' }]);
      const before = llm.requests.length;
      const turn = await sendTurn(limited, 'loop', [user('u1', 'loop')]);
      expect(turn.error).toBeUndefined();
      expect(llm.requests.length - before).toBe(2);
      expect(textOf(turn.message)).toMatch(/stopped after 2 steps/);
      const messages = (await limited.call('GET', '/v1/chats/loop')).body.messages as UIMessage[];
      expect(toolParts(messages[1])).toHaveLength(2);
      expect(textOf(messages[1])).toMatch(/stopped after 2 steps/);
    } finally {
      await limited.close();
    }
  });
});
