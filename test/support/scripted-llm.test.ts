import OpenAI, { APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScriptedLlm, type ScriptStep, type ScriptedLlm } from './scripted-llm.ts';

const started: ScriptedLlm[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((llm) => llm.close()));
});

async function start(opts?: { steps?: ScriptStep[]; tokenDelayMs?: number }) {
  const llm = await startScriptedLlm(opts);
  started.push(llm);
  return llm;
}

function client(llm: ScriptedLlm, maxRetries = 0) {
  return new OpenAI({ apiKey: 'test', baseURL: llm.baseUrl, maxRetries });
}

const user = [{ role: 'user' as const, content: 'hi' }];

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'list_pipelines', description: 'List pipelines', parameters: { type: 'object', properties: { filter: { type: 'string' } } } },
  },
  {
    type: 'function',
    function: { name: 'run_pipeline', parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
  },
];

async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Assembles streamed tool calls by index, as an agent would. */
function assembleToolCalls(chunks: ChatCompletionChunk[]) {
  const calls: Array<{ id: string; type: string; name: string; arguments: string }> = [];
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      const call = (calls[delta.index] ??= { id: '', type: '', name: '', arguments: '' });
      if (delta.id) call.id = delta.id;
      if (delta.type) call.type = delta.type;
      if (delta.function?.name) call.name += delta.function.name;
      if (delta.function?.arguments) call.arguments += delta.function.arguments;
    }
  }
  return calls;
}

describe('scripted OpenAI-compatible server', () => {
  it('streams a text answer as chat.completion.chunk deltas that concatenate to the text', async () => {
    const text = 'The pipeline daily_orders ran 3 times today.';
    const llm = await start({ steps: [{ text, chunkSize: 5 }] });
    const stream = await client(llm).chat.completions.create({ model: 'gpt-test', messages: user, stream: true });
    const chunks = await collect(stream);

    const contents = chunks.map((c) => c.choices[0]?.delta.content).filter((c): c is string => typeof c === 'string' && c.length > 0);
    expect(contents.length).toBe(Math.ceil(text.length / 5));
    expect(contents.every((c) => c.length <= 5)).toBe(true);
    expect(contents.join('')).toBe(text);

    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.slice(1).every((c) => c.choices[0]?.delta.role === undefined)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-test', id: chunks[0]?.id, created: chunks[0]?.created });
      expect(chunk.id).toMatch(/^chatcmpl-/);
      expect(chunk.choices[0]?.index).toBe(0);
    }
  });

  it('speaks server-sent events on the wire: text/event-stream, data: lines, data: [DONE]', async () => {
    const llm = await start({ steps: [{ text: 'hello there' }] });
    const res = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test' },
      body: JSON.stringify({ model: 'm', messages: user, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const body = await res.text();
    const events = body.split('\n\n').filter((e) => e.length > 0);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as ChatCompletionChunk);
    expect(parsed[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant' });
    expect(parsed.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('hello there');
    expect(parsed.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
  });

  it('streams tool calls that assemble by index (create({stream:true}) + manual assembly), malformed arguments kept raw', async () => {
    const first = JSON.stringify({ filter: 'daily orders with a long enough filter to need many pieces' });
    const malformed = '{"name": "daily_orders", ';
    const llm = await start({
      steps: [{ toolCalls: [{ name: 'list_pipelines', arguments: first }, { name: 'run_pipeline', arguments: malformed }] }],
    });
    const chunks = await collect(await client(llm).chat.completions.create({ model: 'm', messages: user, tools, stream: true }));

    const calls = assembleToolCalls(chunks);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ type: 'function', name: 'list_pipelines', arguments: first });
    expect(calls[1]).toMatchObject({ type: 'function', name: 'run_pipeline', arguments: malformed });
    expect(calls[0]?.id).toMatch(/^call_/);
    expect(calls[1]?.id).toMatch(/^call_/);
    expect(calls[0]?.id).not.toBe(calls[1]?.id);

    // First delta: role + id/type/name with empty arguments; then argument pieces of ~10 chars carrying only index + arguments.
    const first0 = chunks[0]?.choices[0]?.delta;
    expect(first0?.role).toBe('assistant');
    expect(first0?.tool_calls).toEqual([{ index: 0, id: calls[0]?.id, type: 'function', function: { name: 'list_pipelines', arguments: '' } }]);
    const argumentDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).filter((d) => d.id === undefined);
    expect(argumentDeltas.length).toBe(Math.ceil(first.length / 10) + Math.ceil(malformed.length / 10));
    for (const d of argumentDeltas) {
      expect(Object.keys(d).sort()).toEqual(['function', 'index']);
      expect(Object.keys(d.function ?? {})).toEqual(['arguments']);
      expect(d.function?.arguments?.length).toBeLessThanOrEqual(10);
    }
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('streams text then tool calls that the SDK stream helper assembles (chat.completions.stream)', async () => {
    const args = JSON.stringify({ name: 'daily_orders' });
    const llm = await start({ steps: [{ text: 'Let me run it.', toolCalls: [{ name: 'run_pipeline', arguments: args }] }] });
    const deltas: string[] = [];
    const stream = client(llm).chat.completions.stream({ model: 'm', messages: user, tools });
    stream.on('content.delta', ({ delta }) => deltas.push(delta));
    const completion = await stream.finalChatCompletion();

    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Let me run it.');
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.role).toBe('assistant');
    expect(choice?.message.content).toBe('Let me run it.');
    expect(choice?.message.tool_calls).toHaveLength(1);
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call?.type === 'function' && call.function).toMatchObject({ name: 'run_pipeline', arguments: args });
    expect(call?.id).toMatch(/^call_/);
  });

  it('uses given tool call ids', async () => {
    const llm = await start({ steps: [{ toolCalls: [{ id: 'call_fixed', name: 'list_pipelines', arguments: '{}' }] }] });
    const chunks = await collect(await client(llm).chat.completions.create({ model: 'm', messages: user, tools, stream: true }));
    expect(assembleToolCalls(chunks)).toEqual([{ id: 'call_fixed', type: 'function', name: 'list_pipelines', arguments: '{}' }]);
  });

  it('sends a usage chunk (empty choices) when stream_options.include_usage is asked', async () => {
    const llm = await start({ steps: [{ text: 'ok' }, { text: 'ok' }] });
    const withUsage = await collect(
      await client(llm).chat.completions.create({ model: 'm', messages: user, stream: true, stream_options: { include_usage: true } }),
    );
    const last = withUsage.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(withUsage.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(withUsage.at(-2)?.choices[0]?.finish_reason).toBe('stop');

    const without = await collect(await client(llm).chat.completions.create({ model: 'm', messages: user, stream: true }));
    expect(without.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it('answers stream: false with a chat.completion object from the same script', async () => {
    const llm = await start({
      steps: [{ text: 'plain answer' }, { toolCalls: [{ name: 'run_pipeline', arguments: '{"name":"x"}' }], text: 'calling' }],
    });
    const c = client(llm);
    const text = await c.chat.completions.create({ model: 'gpt-test', messages: user });
    expect(text).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'plain answer', refusal: null } }],
    });
    expect(text.id).toMatch(/^chatcmpl-/);
    expect(text.usage?.total_tokens).toBeGreaterThan(0);
    expect(text.choices[0]?.message.tool_calls).toBeUndefined();

    const tool = await c.chat.completions.create({ model: 'gpt-test', messages: user, tools });
    expect(tool.choices[0]?.finish_reason).toBe('tool_calls');
    expect(tool.choices[0]?.message.content).toBe('calling');
    expect(tool.choices[0]?.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'run_pipeline', arguments: '{"name":"x"}' } },
    ]);
  });

  it('retries a 429 with retry-after "0" and then succeeds when the client allows retries', async () => {
    const llm = await start({ steps: [{ status: 429, retryAfter: '0' }, { text: 'after the rate limit' }] });
    const chunks = await collect(await client(llm, 2).chat.completions.create({ model: 'm', messages: user, stream: true }));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('after the rate limit');
    expect(llm.requests).toHaveLength(2);
  });

  it('answers an error step with the status, an OpenAI error body and the retry-after header', async () => {
    const llm = await start({ steps: [{ status: 429, retryAfter: '7' }] });
    const res = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: user, stream: true }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      error: { message: expect.any(String), type: expect.any(String), param: null, code: 'rate_limit_exceeded' },
    });
  });

  it('surfaces a 500 as an APIError with status 500 and the message', async () => {
    const llm = await start({
      steps: [{ status: 500, body: { error: { message: 'upstream exploded', type: 'server_error', code: null } } }, { status: 500 }],
    });
    const c = client(llm);
    const error = await c.chat.completions.create({ model: 'm', messages: user, stream: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(500);
    expect((error as APIError).message).toContain('upstream exploded');
    expect((error as APIError).type).toBe('server_error');
    expect((error as APIError).requestID).toMatch(/^req_/);

    const fallback = await c.chat.completions.create({ model: 'm', messages: user }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(fallback).toBeInstanceOf(APIError);
    expect((fallback as APIError).status).toBe(500);
    expect((fallback as APIError).message).toContain('The server had an error');
    expect(llm.requests).toHaveLength(2);
  });

  it('counts a hang request the client aborts with an AbortController', async () => {
    const llm = await start({ steps: [{ hang: true }, { text: 'next' }] });
    const controller = new AbortController();
    const stream = await client(llm).chat.completions.create({ model: 'm', messages: user, stream: true }, { signal: controller.signal });
    const received: ChatCompletionChunk[] = [];
    const error = await (async () => {
      for await (const chunk of stream) {
        received.push(chunk);
        controller.abort();
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    // The SDK ends an aborted stream's iteration quietly (older versions threw APIUserAbortError).
    expect(error === undefined || error instanceof APIUserAbortError).toBe(true);
    expect(received).toHaveLength(1);
    expect(received[0]?.choices[0]?.delta.role).toBe('assistant');
    await vi.waitFor(() => expect(llm.aborted).toBe(1));

    // The server keeps answering after an abort.
    const next = await client(llm).chat.completions.create({ model: 'm', messages: user });
    expect(next.choices[0]?.message.content).toBe('next');
    expect(llm.aborted).toBe(1);
  });

  it('counts an abort of a non-streaming hang request', async () => {
    const llm = await start({ steps: [{ hang: true }] });
    const controller = new AbortController();
    const pending = client(llm).chat.completions.create({ model: 'm', messages: user }, { signal: controller.signal });
    await vi.waitFor(() => expect(llm.requests).toHaveLength(1));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    await vi.waitFor(() => expect(llm.aborted).toBe(1));
  });

  it('counts a stream dropped mid-text (tokenDelayMs) and does not count finished ones', async () => {
    const long = 'a long answer that takes a while. '.repeat(10);
    const llm = await start({ steps: [{ text: 'done' }, { text: long, chunkSize: 2 }], tokenDelayMs: 5 });
    const c = client(llm);
    await collect(await c.chat.completions.create({ model: 'm', messages: user, stream: true }));
    expect(llm.aborted).toBe(0);

    const controller = new AbortController();
    const stream = await c.chat.completions.create({ model: 'm', messages: user, stream: true }, { signal: controller.signal });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (text.length >= 4) controller.abort();
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error === undefined || error instanceof APIUserAbortError).toBe(true);
    expect(long.startsWith(text)).toBe(true);
    expect(text.length).toBeLessThan(long.length);
    await vi.waitFor(() => expect(llm.aborted).toBe(1));
  });

  it('records every request body, including tools and parallel_tool_calls', async () => {
    const llm = await start({ steps: [{ text: 'one' }, { text: 'two' }] });
    const c = client(llm);
    await collect(await c.chat.completions.create({ model: 'gpt-a', messages: user, tools, parallel_tool_calls: false, stream: true }));
    await c.chat.completions.create({ model: 'gpt-b', messages: [...user, { role: 'assistant', content: 'one' }, { role: 'user', content: 'again' }] });

    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[0]).toMatchObject({ model: 'gpt-a', messages: user, tools, parallel_tool_calls: false, stream: true });
    expect(llm.requests[1]?.model).toBe('gpt-b');
    expect(llm.requests[1]?.messages).toHaveLength(3);
    expect(llm.requests[1]?.tools).toBeUndefined();
    expect(llm.requests[1]?.stream).toBeUndefined();
  });

  it('lets a function step decide from the request (echo the last tool result)', async () => {
    const echo: ScriptStep = (request) => {
      const last = request.messages.at(-1) as { role: string; content: string };
      return { text: `tool said: ${last.content}` };
    };
    const llm = await start({ steps: [{ toolCalls: [{ name: 'list_pipelines', arguments: '{}' }] }, echo] });
    const c = client(llm);
    const first = await c.chat.completions.stream({ model: 'm', messages: user, tools }).finalChatCompletion();
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(call?.id).toBeDefined();

    const second = await c.chat.completions
      .stream({
        model: 'm',
        messages: [
          ...user,
          { role: 'assistant', content: null, tool_calls: first.choices[0]?.message.tool_calls ?? [] },
          { role: 'tool', tool_call_id: call?.id ?? '', content: '["daily_orders"]' },
        ],
        tools,
      })
      .finalChatCompletion();
    expect(second.choices[0]?.message.content).toBe('tool said: ["daily_orders"]');
    expect(llm.requests[1]?.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call?.id, content: '["daily_orders"]' });
  });

  it('answers 500 "script exhausted" when no step is left, and script() replaces the queue', async () => {
    const llm = await start({ steps: [{ text: 'only one' }, { text: 'dropped' }] });
    const c = client(llm);
    expect((await c.chat.completions.create({ model: 'm', messages: user })).choices[0]?.message.content).toBe('only one');

    llm.script([{ text: 'replaced' }]);
    expect((await c.chat.completions.create({ model: 'm', messages: user })).choices[0]?.message.content).toBe('replaced');

    const error = await c.chat.completions.create({ model: 'm', messages: user, stream: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(500);
    expect((error as APIError).message).toContain('script exhausted');
    expect(llm.requests).toHaveLength(3);
  });
});
