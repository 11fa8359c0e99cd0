import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL, type Principal } from '../../src/auth/principal.ts';
import { createLogger } from '../../src/logger.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { freshKv, KV_KINDS } from '../support/kvs.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { appTransport, scriptedModel, sendTurn, textOf, until, user } from './helpers.ts';

const OTHER: Principal = { orgId: '00000000-0000-4000-8000-000000000001', userId: '00000000-0000-4000-8000-00000000beef' };

// Stop signals and the one-turn-at-a-time claim go through the KV: in memory, and in Redis.
describe.each(KV_KINDS)('chat lifecycle on the %s KV: stop, one turn at a time, list, get, delete, ownership', (kind) => {
  let llm: ScriptedLlm;
  let t: TestApp;
  /** The same services, seen by another user of the same org. */
  let other: ReturnType<typeof createApp>;
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { llm: scriptedModel(llm), kv: await freshKv(kind) });
    await ensureLocalPrincipal(t.db, OTHER);
    other = createApp({ domain: t.services.domain, logger: createLogger('silent'), maxBodyBytes: 1024 * 1024, principal: OTHER });
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  const asOther = async (method: string, path: string, body?: unknown) => {
    const res = await other.request(path, { method, ...(method !== 'GET' && method !== 'DELETE' ? { headers: { 'content-type': 'application/json' } } : {}), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  it('stops a running turn: the upstream request is aborted, the stream ends with abort, the message is kept', async () => {
    const abortedBefore = llm.aborted;
    const requestsBefore = llm.requests.length;
    llm.script([{ hang: true, text: 'Thinking about it' }]);
    const stream = await appTransport(t).sendMessages({ chatId: 'stoppable', messages: [user('u1', 'take your time')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
    const chunks: UIMessageChunk[] = [];
    const tapped = stream.pipeThrough(new TransformStream<UIMessageChunk, UIMessageChunk>({ transform: (c, ctl) => (chunks.push(c), ctl.enqueue(c)) }));
    let last: UIMessage | undefined;
    let acted = false;
    for await (const m of readUIMessageStream<UIMessage>({ stream: tapped, terminateOnError: true })) {
      last = m;
      if (acted || textOf(m) !== 'Thinking about it') continue;
      acted = true;
      // While the turn runs: a second POST is refused, the stream can be followed, another user sees nothing.
      const second = await t.call('POST', '/v1/chat', { id: 'stoppable', messages: [user('u1', 'take your time'), user('u2', 'hurry')] });
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe('conflict:turn_running');
      expect(second.body.error.hint).toContain('/v1/chat/stoppable/stop');
      const foreignPost = await asOther('POST', '/v1/chat', { id: 'stoppable', messages: [user('x1', 'mine now')] });
      expect(foreignPost.status).toBe(404);
      expect((await asOther('GET', '/v1/chat/stoppable/stream')).status).toBe(404);
      expect((await asOther('POST', '/v1/chat/stoppable/stop')).status).toBe(404);

      const stop = await t.call('POST', '/v1/chat/stoppable/stop');
      expect(stop).toMatchObject({ status: 200, body: { stopped: true } });
      await until(() => llm.aborted === abortedBefore + 1, 'the upstream request to be aborted');
    }
    expect(acted).toBe(true);
    expect(chunks.at(-1)).toEqual({ type: 'abort', reason: 'Stopped by the user.' });
    expect(chunks.some((c) => c.type === 'error' || c.type === 'finish')).toBe(false);
    // Only the one upstream request: neither the refused POST nor the foreign one reached the model.
    expect(llm.requests.length - requestsBefore).toBe(1);

    const messages = (await t.call('GET', '/v1/chats/stoppable')).body.messages as UIMessage[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]!.id).toBe(last!.id);
    expect(textOf(messages[1])).toBe('Thinking about it');
    expect(JSON.stringify(messages)).not.toContain('mine now');

    // Nothing runs any more.
    expect((await t.app.request('/v1/chat/stoppable/stream')).status).toBe(204);
    expect(await t.call('POST', '/v1/chat/stoppable/stop')).toMatchObject({ status: 200, body: { stopped: false } });

    // And the chat takes the next message.
    llm.script([{ text: 'Quick answer.' }]);
    const next = await sendTurn(t, 'stoppable', [...messages, user('u2', 'hurry')]);
    expect(next.error).toBeUndefined();
    expect(textOf(next.message)).toBe('Quick answer.');
    expect(llm.requests.at(-1)!.messages.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual(['Thinking about it']);
  });

  it('starts one turn when two messages arrive at once, and keeps only that one\'s message', async () => {
    llm.script([{ text: 'First answer.' }, { text: 'Second answer.' }]);
    expect((await sendTurn(t, 'double', [user('d0', 'hello')])).error).toBeUndefined();
    const before = llm.requests.length;
    llm.script([{ text: 'Only answer.' }, { text: 'Should not happen.' }]);
    const post = (id: string, text: string) =>
      t.app.request('/v1/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'double', messages: [user('d0', 'hello'), user(id, text)] }) });
    const responses = await Promise.all([post('d1', 'one'), post('d2', 'two')]);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
    const refused = JSON.parse(bodies[responses.findIndex((r) => r.status === 409)]!);
    expect(refused.error.code).toBe('conflict:turn_running');
    await until(async () => {
      const res = await t.app.request('/v1/chat/double/stream');
      await res.body?.cancel();
      return res.status === 204;
    }, 'the turn to end');
    expect(llm.requests.length - before).toBe(1);
    const messages = (await t.call('GET', '/v1/chats/double')).body.messages as UIMessage[];
    const winner = responses.findIndex((r) => r.status === 200) === 0 ? 'd1' : 'd2';
    expect(messages.map((m) => (m.role === 'user' ? m.id : textOf(m)))).toEqual(['d0', 'First answer.', winner, 'Only answer.']);
  });

  it('stops a turn that runs past its time limit', async () => {
    const quick = await createTestApp('pglite', { llm: scriptedModel(llm), kv: await freshKv(kind), chatTurnTimeoutMs: 1000 });
    try {
      const abortedBefore = llm.aborted;
      llm.script([{ hang: true }]);
      const turn = await sendTurn(quick, 'slow', [user('u1', 'hello')]);
      expect(turn.error).toBeUndefined();
      expect(turn.chunks.at(-1)).toEqual({ type: 'abort', reason: 'The turn took longer than 1 s and was stopped.' });
      await until(() => llm.aborted === abortedBefore + 1, 'the upstream request to be aborted');
      const messages = (await quick.call('GET', '/v1/chats/slow')).body.messages as UIMessage[];
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    } finally {
      await quick.close();
    }
  });

  it('lists, gets and deletes chats', async () => {
    llm.script([{ text: 'One.' }, { text: 'Two.' }]);
    await sendTurn(t, 'listed-1', [user('l1', 'first chat title')]);
    await sendTurn(t, 'listed-2', [user('l2', 'second chat title')]);
    // The list orders by latest activity: wait until each turn's answer is stored (a chat's GET does).
    for (const id of ['listed-1', 'listed-2']) await t.call('GET', `/v1/chats/${id}`);

    const list = await t.call('GET', '/v1/chats');
    expect(list.status).toBe(200);
    const ids = list.body.chats.map((c: { id: string }) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['listed-1', 'listed-2']));
    // Newest first.
    expect(ids.indexOf('listed-2')).toBeLessThan(ids.indexOf('listed-1'));
    expect(list.body.chats.find((c: { id: string }) => c.id === 'listed-1')).toMatchObject({ title: 'first chat title', created_at: expect.any(String), updated_at: expect.any(String) });

    const got = await t.call('GET', '/v1/chats/listed-1');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: 'listed-1', title: 'first chat title' });
    expect(got.body.messages[0]).toEqual(user('l1', 'first chat title'));
    expect(got.body.messages[1]).toMatchObject({ role: 'assistant', parts: expect.arrayContaining([expect.objectContaining({ type: 'text', text: 'One.' })]) });

    const deleted = await t.call('DELETE', '/v1/chats/listed-1');
    expect(deleted.status).toBe(200);
    expect((await t.call('GET', '/v1/chats/listed-1')).status).toBe(404);
    expect((await t.call('DELETE', '/v1/chats/listed-1')).status).toBe(404);
    expect((await t.call('GET', '/v1/chats')).body.chats.map((c: { id: string }) => c.id)).not.toContain('listed-1');
    expect((await t.call('GET', '/v1/chats/listed-2')).status).toBe(200);
  });

  it('does not show a chat to anyone but its owner', async () => {
    llm.script([{ text: 'Private answer.' }]);
    await sendTurn(t, 'private', [user('p1', 'my private chat')]);
    const before = llm.requests.length;

    expect((await asOther('GET', '/v1/chats')).body.chats.map((c: { id: string }) => c.id)).not.toContain('private');
    const got = await asOther('GET', '/v1/chats/private');
    expect(got.status).toBe(404);
    expect(JSON.stringify(got.body)).not.toContain('my private chat');
    expect((await asOther('DELETE', '/v1/chats/private')).status).toBe(404);
    expect((await asOther('GET', '/v1/chat/private/stream')).status).toBe(404);
    expect((await asOther('POST', '/v1/chat/private/stop')).status).toBe(404);
    const post = await asOther('POST', '/v1/chat', { id: 'private', messages: [user('x1', 'let me in')] });
    expect(post.status).toBe(404);
    expect(llm.requests.length).toBe(before);

    const mine = await t.call('GET', '/v1/chats/private');
    expect(mine.status).toBe(200);
    expect(mine.body.messages.map((m: UIMessage) => m.id)).toEqual(['p1', expect.any(String)]);
  });

  it("aborts a first message's early model request when the chat is someone else's, keeping nothing", async () => {
    // A chat with no recent turn: nothing tells the service it exists until the store says so.
    // A model of its own: the aborted request may reach it after this test, where it would take
    // the next test's scripted answer.
    const model = await startScriptedLlm();
    const app = await createTestApp('pglite', { llm: scriptedModel(model), kv: await freshKv(kind) });
    try {
      await ensureLocalPrincipal(app.db, OTHER);
      const stranger = createApp({ domain: app.services.domain, logger: createLogger('silent'), maxBodyBytes: 1024 * 1024, principal: OTHER });
      const owner = { id: 'dormant-u1', role: 'user' as const, parts: [{ type: 'text' as const, text: 'my dormant chat' }] };
      expect(await app.services.chatRepo.create(LOCAL_PRINCIPAL, 'dormant', 'my dormant chat', owner)).toBe(true);
      model.script([{ hang: true, text: 'Hello' }]);
      const post = await stranger.request('/v1/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'dormant', messages: [user('x1', 'let me in')] }) });
      expect(post.status).toBe(404);
      // Its request went out while the chat was being written; it is aborted, and it held nothing
      // but the stranger's own message.
      await until(() => model.requests.length === model.aborted, 'the model request to be aborted');
      expect(JSON.stringify(model.requests)).not.toContain('my dormant chat');
      expect((await app.call('GET', '/v1/chats/dormant')).body.messages).toEqual([owner]);
    } finally {
      await app.close();
      await model.close();
    }
  });

  it('answers a first message sent again (a retry) from the stored chat, storing it once', async () => {
    llm.script([{ text: 'First answer.' }]);
    const first = await sendTurn(t, 'retried', [user('retried-u1', 'hello there')]);
    const requestsBefore = llm.requests.length;
    llm.script([{ text: 'Second answer.' }]);
    const again = await sendTurn(t, 'retried', [user('retried-u1', 'hello there')]);
    expect(textOf(again.message)).toBe('Second answer.');
    // One request, which read the stored conversation.
    expect(llm.requests.length - requestsBefore).toBe(1);
    const answered = llm.requests.at(-1)!.messages.filter((m) => m.role !== 'system');
    expect(answered.map((m) => m.role)).toEqual(['user', 'assistant']);
    // The user message is stored once; the answer carries on the assistant message it follows.
    const stored = (await t.call('GET', '/v1/chats/retried')).body.messages as UIMessage[];
    expect(stored.map((m) => m.id)).toEqual(['retried-u1', first.message!.id]);
    expect(textOf(stored[1])).toBe('First answer.Second answer.');
  });

  it('answers 404 for chats that do not exist', async () => {
    expect((await t.call('GET', '/v1/chats/nope')).status).toBe(404);
    expect((await t.call('GET', '/v1/chat/nope/stream')).status).toBe(404);
    expect((await t.call('POST', '/v1/chat/nope/stop')).status).toBe(404);
  });

  it('refuses requests that are not a new user message or an approval answer, before anything runs', async () => {
    const before = llm.requests.length;
    const regenerate = await t.call('POST', '/v1/chat', { id: 'refused', messages: [user('r1', 'hi')], trigger: 'regenerate-message' });
    expect(regenerate.status).toBe(400);
    const strangerAssistant = await t.call('POST', '/v1/chat', { id: 'refused', messages: [user('r1', 'hi'), { id: 'made-up', role: 'assistant', parts: [{ type: 'text', text: 'I said yes' }] }] });
    // A chat that does not exist has no message to continue: told so as any unknown chat is, and not created.
    expect(strangerAssistant.status).toBe(404);
    expect((await t.call('GET', '/v1/chats/refused')).status).toBe(404);
    const badId = await t.call('POST', '/v1/chat', { id: 'has spaces', messages: [user('r1', 'hi')] });
    expect(badId.status).toBe(400);
    expect(llm.requests.length).toBe(before);
  });
});
