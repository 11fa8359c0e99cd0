import type { UIMessage, UIMessageChunk } from 'ai';
import type { Logger } from '../logger.ts';
import type { ChatRepo } from './chat-repo.ts';
import { MessageAssembler } from './message-assembler.ts';

/**
 * Stores one turn as it happens, one save after another: the user's new message first, then the
 * assistant's message at every step end and once more at the end (skipped when nothing changed).
 *
 * Saves wait for the event loop to turn once before they start, so the model request that follows a
 * step end (or the turn's first one) is on the wire first: the embedded store works on this thread,
 * and its work then overlaps the model's thinking instead of delaying the request.
 */
export class TurnSaver {
  private readonly chats: ChatRepo;
  private readonly chatId: string;
  private readonly log: Logger;
  private readonly assembler: MessageAssembler;
  private chain: Promise<void> = Promise.resolve();
  private saved = '';
  private userStored = true;

  /** `message`: the assistant message as it stands before the turn (see MessageAssembler); it is not changed. */
  constructor(chats: ChatRepo, chatId: string, log: Logger, message: UIMessage) {
    this.chats = chats;
    this.chatId = chatId;
    this.log = log;
    this.assembler = new MessageAssembler(structuredClone(message));
  }

  /** Stores the user's message; `onFailure` runs if it cannot be, and nothing of the turn is stored after it. */
  saveUserMessage(message: UIMessage, onFailure: (error: unknown) => void): void {
    this.then(async () => {
      try {
        await this.chats.saveMessage(this.chatId, message);
      } catch (error) {
        this.userStored = false;
        this.log.error({ err: error, chat_id: this.chatId }, 'could not save the user message');
        onFailure(error);
      }
    });
  }

  /** Every chunk of the turn, in order; a step end stores the message so far. */
  add(chunk: UIMessageChunk): void {
    this.assembler.add(chunk);
    if (chunk.type === 'finish-step') this.saveAssistantMessage();
  }

  /** Stores what is left and waits for every save. */
  async finish(): Promise<void> {
    this.saveAssistantMessage('all');
    await this.chain;
  }

  private saveAssistantMessage(to: 'step' | 'all' = 'step'): void {
    this.then(async () => {
      try {
        const message = await this.assembler.read(to);
        if (!this.userStored || message.parts.length === 0) return;
        const json = JSON.stringify(message);
        if (json === this.saved) return;
        await this.chats.saveMessage(this.chatId, message, json);
        this.saved = json;
      } catch (error) {
        this.log.error({ err: error, chat_id: this.chatId }, 'could not save a chat message');
      }
    });
  }

  private then(save: () => Promise<void>): void {
    this.chain = this.chain.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(save);
  }
}
