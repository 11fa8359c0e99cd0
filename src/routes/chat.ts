import { createRoute, z } from '@hono/zod-openapi';
import { UI_MESSAGE_STREAM_HEADERS, type UIMessage } from 'ai';
import type { AppDomain } from '../app-domain.ts';
import { createRouter, errorResponses, errorSchema, jsonBody, jsonResponse } from './router.ts';
import { iso } from './serialize.ts';

const chatId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'use letters, digits, "-" or "_" (at most 100)');
const uiMessage = z
  .object({ id: z.string().min(1).max(200), role: z.enum(['system', 'user', 'assistant']), parts: z.array(z.object({ type: z.string() }).passthrough()) })
  .passthrough()
  .openapi('UIMessage', { description: "An AI SDK UIMessage (what useChat's DefaultChatTransport sends)" });

const sse = { content: { 'text/event-stream': { schema: z.string() } }, description: 'AI SDK UI message stream (x-vercel-ai-ui-message-stream: v1)' };

const post = createRoute({
  method: 'post',
  path: '/v1/chat',
  summary: 'Send a message (or answer an approval) and stream the assistant turn',
  request: jsonBody(
    z.object({ id: chatId, messages: z.array(uiMessage).min(1), trigger: z.string().optional(), messageId: z.string().optional() }).passthrough(),
    'The body DefaultChatTransport sends',
  ),
  responses: { 200: sse, ...errorResponses, 503: jsonResponse(errorSchema, 'No language model endpoint is configured') },
});

const resume = createRoute({
  method: 'get',
  path: '/v1/chat/{id}/stream',
  summary: 'Resume the running turn: replayed from its start (or after Last-Event-ID), then live',
  request: { params: z.object({ id: chatId }) },
  responses: { 200: sse, 204: { description: 'No turn is running' }, ...errorResponses },
});

const stop = createRoute({
  method: 'post',
  path: '/v1/chat/{id}/stop',
  summary: 'Stop the running turn (the model request and any running tool)',
  request: { params: z.object({ id: chatId }) },
  responses: { 200: jsonResponse(z.object({ stopped: z.boolean() }), 'Whether a turn was running'), ...errorResponses },
});

const status = createRoute({
  method: 'get',
  path: '/v1/chat/status',
  summary: 'Whether chat is on (a language model endpoint is configured), and what turns it on when it is not',
  responses: {
    200: jsonResponse(
      z.object({ enabled: z.boolean(), hint: z.string().nullable().openapi({ description: 'When chat is off: the variables that turn it on' }) }).openapi('ChatStatus'),
      'Chat status',
    ),
    ...errorResponses,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/chats',
  summary: 'Your chats, newest first',
  responses: { 200: jsonResponse(z.object({ chats: z.array(z.object({ id: z.string(), title: z.string().nullable(), created_at: z.string(), updated_at: z.string() })) }), 'Chats') },
});

const get = createRoute({
  method: 'get',
  path: '/v1/chats/{id}',
  summary: 'A chat with its messages (AI SDK UIMessages)',
  request: { params: z.object({ id: chatId }) },
  responses: { 200: jsonResponse(z.object({ id: z.string(), title: z.string().nullable(), messages: z.array(uiMessage) }), 'The chat'), ...errorResponses },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/chats/{id}',
  summary: 'Delete a chat and its messages',
  request: { params: z.object({ id: chatId }) },
  responses: { 200: jsonResponse(z.object({ message: z.string() }), 'Deleted'), ...errorResponses },
});

const streamResponse = (body: ReadableStream<Uint8Array>) => new Response(body, { status: 200, headers: UI_MESSAGE_STREAM_HEADERS });

export function chatRoutes({ chat, chats }: AppDomain) {
  return createRouter()
    .openapi(post, async (c) => {
      const body = c.req.valid('json');
      const turnId = await chat.post(c.var.principal, { id: body.id, messages: body.messages as unknown as UIMessage[], ...(body.trigger ? { trigger: body.trigger } : {}) });
      return streamResponse(chats.stream(turnId)) as never;
    })
    .openapi(resume, async (c) => {
      const last = Number(c.req.header('last-event-id'));
      const stream = await chats.resume(c.var.principal, c.req.valid('param').id, Number.isInteger(last) && last >= 0 ? last + 1 : 0);
      return (stream ? streamResponse(stream) : c.body(null, 204)) as never;
    })
    .openapi(stop, async (c) => c.json({ stopped: await chat.stop(c.var.principal, c.req.valid('param').id) }, 200))
    .openapi(status, (c) => c.json(chat.status(), 200))
    .openapi(list, async (c) => {
      const rows = await chats.list(c.var.principal);
      return c.json({ chats: rows.map((r) => ({ id: r.id, title: r.title, created_at: iso(r.created_at), updated_at: iso(r.updated_at) })) }, 200);
    })
    .openapi(get, async (c) => {
      const { chat: row, messages } = await chats.get(c.var.principal, c.req.valid('param').id);
      return c.json({ id: row.id, title: row.title, messages: messages as unknown as z.infer<typeof uiMessage>[] }, 200);
    })
    .openapi(remove, async (c) => {
      await chats.delete(c.var.principal, c.req.valid('param').id);
      return c.json({ message: 'Chat deleted successfully.' }, 200);
    });
}
