import type { UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import { writeChunks, type ChunkWriter } from '../../src/chat/chunk-writer.ts';

const text = (delta: string): UIMessageChunk => ({ type: 'text-delta', id: 't', delta });
const tick = () => new Promise((r) => setTimeout(r, 1));

describe('writeChunks', () => {
  it('delivers what is written in order, one at a time, and settles once all are delivered', async () => {
    const delivered: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await writeChunks(
      async (writer) => {
        writer.write(text('a'));
        writer.write(text('b'));
        await tick();
        writer.write(text('c'));
      },
      {
        deliver: async (chunk) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          // The first delivery is the slowest: a later chunk must still not overtake it.
          await new Promise((r) => setTimeout(r, (chunk as { delta: string }).delta === 'a' ? 10 : 0));
          delivered.push((chunk as { delta: string }).delta);
          inFlight--;
        },
        onError: () => 'unused',
      },
    );
    expect(delivered).toEqual(['a', 'b', 'c']);
    expect(maxInFlight).toBe(1);
  });

  it('ends a turn that throws with an error chunk whose text onError chose, after what came before', async () => {
    const delivered: UIMessageChunk[] = [];
    const seen: unknown[] = [];
    await writeChunks(
      async (writer) => {
        writer.write(text('a'));
        throw new Error('upstream said something private');
      },
      { deliver: async (c) => void delivered.push(c), onError: (e) => (seen.push(e), 'The model failed.') },
    );
    expect(delivered).toEqual([text('a'), { type: 'error', errorText: 'The model failed.' }]);
    expect((seen[0] as Error).message).toBe('upstream said something private');
  });

  it('delivers nothing written after the turn ended', async () => {
    const delivered: UIMessageChunk[] = [];
    let kept: ChunkWriter | null = null;
    await writeChunks(
      async (writer) => {
        kept = writer;
        writer.write(text('a'));
      },
      { deliver: async (c) => void delivered.push(c), onError: () => '' },
    );
    kept!.write(text('late'));
    await tick();
    expect(delivered).toEqual([text('a')]);
  });

  it('stops delivering when a delivery fails, says so once, and rejects with that failure', async () => {
    const delivered: string[] = [];
    const failures: unknown[] = [];
    const failure = new Error('log unavailable');
    const result = writeChunks(
      async (writer) => {
        writer.write(text('a'));
        writer.write(text('b'));
        writer.write(text('c'));
        await tick();
        writer.write(text('d'));
      },
      {
        deliver: async (chunk) => {
          const delta = (chunk as { delta: string }).delta;
          if (delta === 'b') throw failure;
          delivered.push(delta);
        },
        onError: () => '',
        onDeliveryError: (e) => failures.push(e),
      },
    );
    await expect(result).rejects.toBe(failure);
    expect(delivered).toEqual(['a']);
    expect(failures).toEqual([failure]);
  });
});
