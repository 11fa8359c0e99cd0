import type { UIMessage } from 'ai';
import { requireRole } from '../auth/roles.ts';
import type { Principal } from '../auth/principal.ts';
import { notFound } from '../errors.ts';
import type { ChatRepo, ChatRow } from './chat-repo.ts';
import type { TurnLog } from './turn-log.ts';

/** Reading chats and their turns' streams, and deleting chats: what the chat routes need beside posting. */
export class ChatHistory {
  private readonly chats: ChatRepo;
  private readonly turns: TurnLog;

  constructor(chats: ChatRepo, turns: TurnLog) {
    this.chats = chats;
    this.turns = turns;
  }

  list(principal: Principal): Promise<ChatRow[]> {
    return this.chats.list(principal);
  }

  /** A chat with its messages, read after any turn whose stream has ended but whose message is still being stored. */
  async get(principal: Principal, chatId: string): Promise<{ chat: ChatRow; messages: UIMessage[] }> {
    const chat = await this.chats.get(principal, chatId);
    if (!chat) throw notFound('chat', chatId);
    await this.turns.settled(chatId);
    return { chat, messages: await this.chats.messages(chatId) };
  }

  async delete(principal: Principal, chatId: string): Promise<void> {
    requireRole(principal, 'chat', 'Deleting a chat');
    if (!(await this.chats.delete(principal, chatId))) throw notFound('chat', chatId);
  }

  /** A turn's stream as SSE, from chunk `from` on, then live. */
  stream(turnId: string, from = 0): ReadableStream<Uint8Array> {
    return this.turns.sse(turnId, from);
  }

  /** The running turn's stream from chunk `from` on; null when no turn runs. */
  async resume(principal: Principal, chatId: string, from: number): Promise<ReadableStream<Uint8Array> | null> {
    if (!(await this.chats.get(principal, chatId))) throw notFound('chat', chatId);
    const turnId = await this.turns.running(chatId);
    return turnId ? this.turns.sse(turnId, from) : null;
  }
}
