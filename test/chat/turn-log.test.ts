import type { UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import { MemoryKv } from '../../src/adapters/kv/memory-kv.ts';
import { toSse, TurnLog, type LoggedChunk } from '../../src/chat/turn-log.ts';

async function all<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream as unknown as AsyncIterable<T>) out.push(item);
  return out;
}

describe('TurnLog', () => {
  it('lets exactly one of several simultaneous claims start a turn, and the next after it ends', async () => {
    const turns = new TurnLog(new MemoryKv());
    const first = await Promise.all(Array.from({ length: 5 }, () => turns.begin('c')));
    const winners = first.filter((id): id is string => id !== null);
    expect(winners).toHaveLength(1);
    expect(await turns.running('c')).toBe(winners[0]);
    expect(await turns.begin('c')).toBeNull();
    // Other chats are not affected.
    expect(await turns.begin('other')).toEqual(expect.any(String));

    await turns.end('c', winners[0]!);
    expect(await turns.running('c')).toBeNull();
    const second = (await Promise.all(Array.from({ length: 5 }, () => turns.begin('c')))).filter((id) => id !== null);
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(winners[0]);
    expect(await turns.running('c')).toBe(second[0]);
  });

  it('replays a turn from any point and follows it live until it ends', async () => {
    const turns = new TurnLog(new MemoryKv());
    const id = (await turns.begin('c'))!;
    const chunk = (n: number): UIMessageChunk => ({ type: 'text-delta', id: 't', delta: String(n) });
    await turns.append(id, chunk(0));
    await turns.append(id, chunk(1));
    const fromStart = all(turns.read(id));
    const fromOne = all(turns.read(id, 1));
    await turns.append(id, chunk(2));
    await turns.end('c', id);
    expect(await fromStart).toEqual([0, 1, 2].map((n) => ({ index: n, json: JSON.stringify(chunk(n)) })));
    expect(await fromOne).toEqual([1, 2].map((n) => ({ index: n, json: JSON.stringify(chunk(n)) })));
    // A reader that comes after the end gets the whole turn at once.
    expect((await all(turns.read(id))).map((c) => c.index)).toEqual([0, 1, 2]);
  });

  it('frames chunks as numbered SSE events ending in [DONE]', async () => {
    const source = new ReadableStream<LoggedChunk>({
      start(controller) {
        controller.enqueue({ index: 7, json: JSON.stringify({ type: 'start-step' }) });
        controller.close();
      },
    });
    const text = (await all(toSse(source))).map((b) => new TextDecoder().decode(b)).join('');
    expect(text).toBe('id: 7\ndata: {"type":"start-step"}\n\ndata: [DONE]\n\n');
  });
});
