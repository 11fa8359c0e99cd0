import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHttpFetch } from '../../src/adapters/llm/node-http-fetch.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';

const fetchOverNode = nodeHttpFetch();

describe('nodeHttpFetch (the LLM client transport) against real HTTP servers', () => {
  let raw: Server;
  let rawUrl: string;
  let seen: Array<{ method: string; headers: Record<string, unknown>; body: string; port: number }> = [];
  let llm: ScriptedLlm;

  beforeAll(async () => {
    raw = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method!, headers: req.headers, body, port: req.socket.remotePort! });
        if (req.url === '/gzip') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(gzipSync(JSON.stringify({ ok: 'décompressé' })));
        } else if (req.url === '/error') {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7', 'x-multi': 'a' });
          res.end('{"error":{"message":"slow down"}}');
        } else if (req.url === '/v1/chat/completions') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] };
          res.end(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
        } else if (req.url === '/hang') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: {"first":true}\n\n');
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`echo ${body}`);
        }
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
    llm = await startScriptedLlm();
  });
  afterAll(async () => {
    raw.closeAllConnections();
    await new Promise((resolve) => raw.close(resolve));
    await llm.close();
  });

  it('sends the method, headers and body, and answers with status, headers and text', async () => {
    seen = [];
    const res = await fetchOverNode(`${rawUrl}/echo`, { method: 'POST', headers: new Headers({ 'x-one': '1', 'content-type': 'application/json' }), body: '{"a":1}' });
    expect([res.ok, res.status]).toEqual([true, 200]);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('echo {"a":1}');
    expect(seen[0]).toMatchObject({ method: 'POST', headers: { 'x-one': '1', 'content-type': 'application/json' }, body: '{"a":1}' });
  });

  it('decodes a gzip body, and reports an error status with its headers and body', async () => {
    expect(await (await fetchOverNode(`${rawUrl}/gzip`)).json()).toEqual({ ok: 'décompressé' });
    const error = await fetchOverNode(`${rawUrl}/error`, { method: 'POST', body: new TextEncoder().encode('{}') });
    expect([error.ok, error.status, error.headers.get('retry-after')]).toEqual([false, 429, '7']);
    expect(await error.text()).toContain('slow down');
  });

  it('an abort ends a body mid-stream with an AbortError, and one before the request sends nothing', async () => {
    const controller = new AbortController();
    const res = await fetchOverNode(`${rawUrl}/hang`, { signal: controller.signal });
    const reading = (async () => {
      for await (const _chunk of res.body as unknown as AsyncIterable<Uint8Array>) controller.abort();
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });

    seen = [];
    const aborted = new AbortController();
    aborted.abort();
    await expect(fetchOverNode(`${rawUrl}/echo`, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([]);
  });

  it('keeps one connection for a model\'s streamed answers, though the client stops reading at [DONE]', async () => {
    // A transport of its own: a pool holding no connection yet.
    const client = new OpenAI({ apiKey: 'test', baseURL: `${rawUrl}/v1`, maxRetries: 0, fetch: nodeHttpFetch() });
    seen = [];
    for (let i = 0; i < 3; i++) {
      let text = '';
      const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: new AbortController().signal });
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe('hi');
      await new Promise((r) => setTimeout(r, 10)); // as a tool call between two steps
    }
    expect(seen.map((r) => r.port)).toEqual([seen[0]!.port, seen[0]!.port, seen[0]!.port]);
  });

  it('refuses what it does not carry, naming it', async () => {
    await expect(fetchOverNode('ftp://example.com/x')).rejects.toThrow(/unsupported protocol ftp:/);
    await expect(fetchOverNode(`${rawUrl}/echo`, { method: 'POST', body: new Blob(['x']) })).rejects.toThrow(/string or Uint8Array/);
  });

  it('carries the openai client: a streamed completion, a retried 429, and an abort the server sees', async () => {
    const client = new OpenAI({ apiKey: 'test', baseURL: llm.baseUrl, maxRetries: 1, fetch: fetchOverNode });
    llm.script([{ status: 429, retryAfter: '0' }, { text: 'hello there', chunkSize: 3 }]);
    let text = '';
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('hello there');

    llm.script([{ hang: true, text: 'x' }]);
    const controller = new AbortController();
    const abortedBefore = llm.aborted;
    const held = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: controller.signal });
    const it = held[Symbol.asyncIterator]();
    expect((await it.next()).value.choices[0].delta.content).toBe('x');
    controller.abort();
    await it.next().catch(() => undefined);
    await expect.poll(() => llm.aborted).toBe(abortedBefore + 1);
  });
});
