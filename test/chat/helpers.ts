import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { createLlm } from '../../src/agent/llm.ts';
import type { ScriptedLlm } from '../support/scripted-llm.ts';
import type { TestApp } from '../support/test-app.ts';

/** The chat options createTestApp takes for a scripted model. */
export const scriptedModel = (llm: ScriptedLlm) => createLlm({ apiKey: 'test', baseURL: llm.baseUrl, model: 'scripted', maxRetries: 2 });

export const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

/** useChat's transport, its fetch answered by the app in-process. */
export const appTransport = (t: TestApp, headers?: Record<string, string>) =>
  new DefaultChatTransport<UIMessage>({ api: 'http://localhost/v1/chat', ...(headers ? { headers } : {}), fetch: async (url, init) => t.app.request(String(url), init as RequestInit) });

export interface Read {
  /** The last UIMessage readUIMessageStream produced. */
  message: UIMessage | undefined;
  /** Every chunk, as the client parsed it. */
  chunks: UIMessageChunk[];
  /** What readUIMessageStream threw (an `error` chunk, or a chunk that breaks the protocol). */
  error: unknown;
}

/**
 * Reads a chunk stream the way useChat does (readUIMessageStream, terminating on any error), keeping
 * the chunks too. `message` is the assistant message a continuation starts from.
 */
export async function readTurn(stream: ReadableStream<UIMessageChunk>, message?: UIMessage): Promise<Read> {
  const chunks: UIMessageChunk[] = [];
  const tapped = stream.pipeThrough(
    new TransformStream<UIMessageChunk, UIMessageChunk>({
      transform(chunk, controller) {
        chunks.push(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
  let last: UIMessage | undefined;
  let error: unknown;
  try {
    for await (const m of readUIMessageStream<UIMessage>({ stream: tapped, terminateOnError: true, ...(message ? { message: structuredClone(message) } : {}) })) last = m;
  } catch (e) {
    error = e;
  }
  return { message: last, chunks, error };
}

/** Sends messages as useChat does (with `headers`, e.g. a key's) and reads the whole turn; fails on any stream error. */
export async function sendTurn(t: TestApp, chatId: string, messages: UIMessage[], continuing?: UIMessage, headers?: Record<string, string>): Promise<Read> {
  const stream = await appTransport(t, headers).sendMessages({ chatId, messages, trigger: 'submit-message', messageId: continuing?.id, abortSignal: undefined });
  return readTurn(stream, continuing);
}

export const textOf = (m: UIMessage | undefined) => (m?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');

export const toolParts = (m: UIMessage | undefined) => (m?.parts ?? []).filter((p) => p.type.startsWith('tool-')) as Array<Record<string, any>>;

/** Polls until `check` holds (each test has its own timeout); for states no event announces. */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A message with its generated ids (message ids, tool call ids, the ids data parts share with their
 * calls) replaced by their order of first appearance, and `undefined` fields dropped: two runs of
 * the same script compare equal.
 */
export function normalizeIds<T>(value: T): T {
  const seen = new Map<string, string>();
  return JSON.parse(
    JSON.stringify(value, (key, v) => {
      if ((key === 'id' || key === 'toolCallId' || key === 'messageId') && typeof v === 'string') {
        if (!seen.has(v)) seen.set(v, `id#${seen.size}`);
        return seen.get(v);
      }
      return v;
    }),
  );
}

/** The upstream messages of one scripted request that answer tool calls. */
export const toolMessages = (request: { messages: any[] }) => request.messages.filter((m) => m.role === 'tool') as Array<{ role: 'tool'; tool_call_id: string; content: string }>;
