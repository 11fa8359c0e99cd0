import { randomUUID } from 'node:crypto';
import type { UIMessageChunk } from 'ai';
import type { Kv } from '../adapters/kv/kv.ts';

export interface LoggedChunk {
  index: number;
  chunk: UIMessageChunk;
}

const END = '__end__';

/**
 * Each turn's chunks, numbered and kept in the KV store while it runs (and an hour after), so a
 * client that dropped can read the turn again from its start, or from the last event it saw, and
 * then follow it live. The turn itself never depends on anyone reading.
 */
export class TurnLog {
  private readonly kv: Kv;
  private readonly ttlSeconds: number;

  constructor(kv: Kv, ttlSeconds = 3600) {
    this.kv = kv;
    this.ttlSeconds = ttlSeconds;
  }

  async begin(chatId: string): Promise<string> {
    const turnId = randomUUID();
    await this.kv.set(`chat:${chatId}:turn`, turnId, this.ttlSeconds);
    return turnId;
  }

  /** The turn running in this chat, if any. */
  async running(chatId: string): Promise<string | null> {
    const turnId = await this.kv.get(`chat:${chatId}:turn`);
    if (!turnId) return null;
    return (await this.kv.get(`turn:${turnId}:done`)) ? null : turnId;
  }

  async append(turnId: string, chunk: UIMessageChunk): Promise<void> {
    const length = await this.kv.append(`turn:${turnId}:chunks`, JSON.stringify(chunk));
    if (length === 1) await this.kv.expire(`turn:${turnId}:chunks`, this.ttlSeconds);
    await this.kv.publish(`turn:${turnId}`, String(length - 1));
  }

  async end(chatId: string, turnId: string): Promise<void> {
    await this.kv.set(`turn:${turnId}:done`, '1', this.ttlSeconds);
    await this.kv.publish(`turn:${turnId}`, END);
    if ((await this.kv.get(`chat:${chatId}:turn`)) === turnId) await this.kv.del(`chat:${chatId}:turn`);
  }

  /** The turn's chunks from `from` on, then live ones as they come, until the turn ends. */
  read(turnId: string, from = 0): ReadableStream<LoggedChunk> {
    let next = from;
    let unsubscribe: (() => void) | null = null;
    let pulling = false;
    let again = false;
    const kv = this.kv;
    return new ReadableStream<LoggedChunk>({
      async start(controller) {
        const drain = async () => {
          // One reader at a time; a notification during a read asks for one more pass.
          if (pulling) {
            again = true;
            return;
          }
          pulling = true;
          try {
            do {
              again = false;
              for (const raw of await kv.range(`turn:${turnId}:chunks`, next)) controller.enqueue({ index: next++, chunk: JSON.parse(raw) });
              if (await kv.get(`turn:${turnId}:done`)) {
                unsubscribe?.();
                controller.close();
                return;
              }
            } while (again);
          } catch (error) {
            unsubscribe?.();
            controller.error(error);
          } finally {
            pulling = false;
          }
        };
        // Subscribe before the first read so nothing appended in between is missed.
        unsubscribe = await kv.subscribe(`turn:${turnId}`, () => void drain());
        await drain();
      },
      cancel() {
        unsubscribe?.();
      },
    });
  }
}

/** SSE in the AI SDK UI message stream framing, with each event's number as its id (for Last-Event-ID). */
export function toSse(chunks: ReadableStream<LoggedChunk>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return chunks.pipeThrough(
    new TransformStream<LoggedChunk, Uint8Array>({
      transform({ index, chunk }, controller) {
        controller.enqueue(encoder.encode(`id: ${index}\ndata: ${JSON.stringify(chunk)}\n\n`));
      },
      flush(controller) {
        controller.enqueue(encoder.encode('data: [DONE]\n\n'));
      },
    }),
  );
}
