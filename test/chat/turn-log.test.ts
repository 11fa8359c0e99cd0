import type { UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import type { Kv } from '../../src/adapters/kv/kv.ts';
import { TURN_ABANDONED, TurnLog } from '../../src/chat/turn-log.ts';
import { KV_KINDS, kvPerTest } from '../support/kvs.ts';

/** The events of an SSE body, as [id, data] pairs (id null for [DONE]). */
async function events(stream: ReadableStream<Uint8Array>): Promise<Array<[number | null, string]>> {
  let text = '';
  for await (const bytes of stream as unknown as AsyncIterable<Uint8Array>) text += new TextDecoder().decode(bytes);
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      const id = /^id: (\d+)$/m.exec(event);
      return [id ? Number(id[1]) : null, /^data: (.*)$/m.exec(event)![1]!];
    });
}

describe.each(KV_KINDS)('TurnLog on the %s KV', (kind) => {
  const fresh = kvPerTest(kind);

  it('lets exactly one of several simultaneous claims start a turn, and the next after it ends', async () => {
    const turns = new TurnLog(await fresh());
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

  it('waits for a turn that has streamed its end but is still storing, and refuses one still streaming', async () => {
    const turns = new TurnLog(await fresh(), { closingWaitMs: 2000 });
    const first = (await turns.begin('c'))!;
    await turns.append(first, { type: 'text-start', id: 't' });
    expect(await turns.begin('c')).toBeNull(); // still streaming: refused at once
    await turns.append(first, { type: 'finish' });
    const next = turns.begin('c'); // streamed its end, not ended yet: waits
    let settled = false;
    void next.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    await turns.end('c', first);
    const second = await next;
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);

    // A closing turn that does not end in time is still refused.
    const impatient = new TurnLog(await fresh(), { closingWaitMs: 50 });
    const stuck = (await impatient.begin('d'))!;
    await impatient.append(stuck, { type: 'error', errorText: 'x' });
    expect(await impatient.begin('d')).toBeNull();
  });

  it('closes its streams at the last chunk, while the turn is over (for begin and settled) only at its end', async () => {
    const turns = new TurnLog(await fresh(), { closingWaitMs: 2000 });
    const id = (await turns.begin('c'))!;
    const live = events(turns.sse(id));
    await turns.append(id, { type: 'start' });
    await turns.append(id, { type: 'finish' });
    // Still storing its message: a reader gets the whole turn and [DONE] already.
    expect((await live).map(([n, data]) => [n, data])).toEqual([[0, '{"type":"start"}'], [1, '{"type":"finish"}'], [null, '[DONE]']]);
    expect((await events(turns.sse(id))).at(-1)).toEqual([null, '[DONE]']);
    expect(await turns.running('c')).toBe(id);
    let settled = false;
    const settling = turns.settled('c').then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    await turns.end('c', id);
    await settling;
    expect(await turns.running('c')).toBeNull();
  });

  it('replays a turn from any point and follows it live until it ends', async () => {
    const turns = new TurnLog(await fresh());
    const id = (await turns.begin('c'))!;
    const chunk = (n: number): UIMessageChunk => ({ type: 'text-delta', id: 't', delta: String(n) });
    await turns.append(id, chunk(0));
    await turns.append(id, chunk(1));
    const fromStart = events(turns.sse(id));
    const fromOne = events(turns.sse(id, 1));
    await turns.append(id, chunk(2));
    await turns.end('c', id);
    const logged = (n: number): [number, string] => [n, JSON.stringify(chunk(n))];
    expect(await fromStart).toEqual([logged(0), logged(1), logged(2), [null, '[DONE]']]);
    expect(await fromOne).toEqual([logged(1), logged(2), [null, '[DONE]']]);
    // A reader that comes after the end gets the whole turn at once.
    expect(await events(turns.sse(id))).toEqual([logged(0), logged(1), logged(2), [null, '[DONE]']]);
  });

  it('frames each chunk as one SSE event whose id is its number, ending in [DONE]', async () => {
    const turns = new TurnLog(await fresh());
    const id = (await turns.begin('c'))!;
    await turns.append(id, { type: 'start-step' });
    await turns.append(id, { type: 'text-start', id: 't' });
    await turns.end('c', id);
    let text = '';
    for await (const bytes of turns.sse(id, 1) as unknown as AsyncIterable<Uint8Array>) text += new TextDecoder().decode(bytes);
    expect(text).toBe('id: 1\ndata: {"type":"text-start","id":"t"}\n\ndata: [DONE]\n\n');
  });

  it('is one log for two instances: a turn begun on one is refused, read and followed on the other', async () => {
    const kv = await fresh();
    const other = await kv.another();
    const here = new TurnLog(kv);
    const there = new TurnLog(other);
    const id = (await here.begin('c'))!;
    expect(await there.begin('c')).toBeNull();
    expect(await there.running('c')).toBe(id);
    const chunk = (n: number): UIMessageChunk => ({ type: 'text-delta', id: 't', delta: String(n) });
    await here.append(id, chunk(0));
    await here.append(id, chunk(1));
    const followed = events(there.sse(id, 1));
    await here.append(id, chunk(2));
    await here.end('c', id);
    expect(await followed).toEqual([[1, JSON.stringify(chunk(1))], [2, JSON.stringify(chunk(2))], [null, '[DONE]']]);
    expect(await there.running('c')).toBeNull();
    expect(await there.begin('c')).toEqual(expect.any(String));
  });

  // A lease of 1 s: an instance killed mid-turn frees the chat that long after, not at the log's TTL.
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const abandoned = JSON.stringify({ type: 'error', errorText: TURN_ABANDONED });

  it('keeps a chat for a turn whose instance renews its lease, however long it runs', async () => {
    // Two seconds here, renewed every 667 ms: a loaded machine's timers may slip, never by a second.
    const turns = new TurnLog(await fresh(), { leaseSeconds: 2 });
    const id = (await turns.begin('c'))!;
    const stopRenewing = turns.keepAlive(id);
    try {
      await sleep(3000);
      expect(await turns.begin('c')).toBeNull();
      expect(await turns.running('c')).toBe(id);
    } finally {
      stopRenewing();
    }
  });

  it('ends a turn whose instance died once its lease runs out: its reader gets an error chunk, and the next message goes ahead', async () => {
    const kv = await fresh();
    const dead = new TurnLog(kv, { leaseSeconds: 1 });
    const alive = new TurnLog(await kv.another(), { leaseSeconds: 1 });
    const id = (await dead.begin('c'))!; // never renewed: its instance is gone
    await dead.append(id, { type: 'start' });
    const followed = events(alive.sse(id));
    await sleep(1200);
    const next = await alive.begin('c');
    expect(next).toEqual(expect.any(String));
    expect(next).not.toBe(id);
    expect(await followed).toEqual([[0, JSON.stringify({ type: 'start' })], [1, abandoned], [null, '[DONE]']]);
    expect(await alive.running('c')).toBe(next);
  });

  it('ends a dead turn for a reader following it even when nobody sends again, writing its error once', async () => {
    const kv = await fresh();
    const dead = new TurnLog(kv, { leaseSeconds: 1 });
    const readers = [new TurnLog(kv, { leaseSeconds: 1 }), new TurnLog(await kv.another(), { leaseSeconds: 1 })];
    const id = (await dead.begin('c'))!;
    await dead.append(id, { type: 'start' });
    const followed = await Promise.all(readers.flatMap((turns) => [events(turns.sse(id)), events(turns.sse(id))]));
    for (const read of followed) expect(read).toEqual([[0, JSON.stringify({ type: 'start' })], [1, abandoned], [null, '[DONE]']]);
    expect(await readers[0]!.running('c')).toBeNull();
    expect(await events(readers[1]!.sse(id))).toHaveLength(3);
  });

  it('ends a reader whose notifications were lost (a subscriber reconnecting hears nothing meanwhile) with every chunk, from the log', async () => {
    const kv = await fresh();
    // The writer's announcements all go missing: only the log has the chunks.
    const unheard: Kv = Object.assign(Object.create(kv) as Kv, { publish: async () => {} });
    const writer = new TurnLog(unheard, { leaseSeconds: 1 });
    const reader = new TurnLog(kv, { leaseSeconds: 1 });
    const id = (await writer.begin('c'))!;
    const stopRenewing = writer.keepAlive(id);
    try {
      const followed = events(reader.sse(id));
      await writer.append(id, { type: 'start' });
      await writer.append(id, { type: 'finish' });
      await writer.end('c', id);
      expect(await followed).toEqual([[0, JSON.stringify({ type: 'start' })], [1, JSON.stringify({ type: 'finish' })], [null, '[DONE]']]);
    } finally {
      stopRenewing();
    }
  });
});
