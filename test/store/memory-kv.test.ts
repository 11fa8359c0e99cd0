import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryKv } from '../../src/adapters/kv/memory-kv.ts';

// The contract both KVs keep is kv-contract.test.ts; this is what only memory does (with a fake clock).
describe('MemoryKv', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps values and lists until they expire, then forgets them', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const kv = new MemoryKv();
    await kv.set('a', '1', 10);
    expect(await kv.append('l', 'x')).toBe(1);
    expect(await kv.append('l', 'y')).toBe(2);
    await kv.expire('l', 10);
    expect([await kv.get('a'), await kv.range('l', 1)]).toEqual(['1', ['y']]);
    vi.advanceTimersByTime(11_000);
    expect([await kv.get('a'), await kv.range('l', 0)]).toEqual([null, []]);
  });

  it('drops expired keys nobody touches again (a finished turn\'s log), on a later write', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const kv = new MemoryKv({ sweepEveryMs: 60_000 });
    for (let i = 0; i < 100; i++) {
      await kv.append(`turn:${i}:chunks`, '{}');
      await kv.expire(`turn:${i}:chunks`, 30);
    }
    await kv.set('kept', 'v');
    expect(kv.size).toBe(101);
    vi.advanceTimersByTime(61_000);
    await kv.set('other', 'v');
    expect(kv.size).toBe(2);
    expect(await kv.get('kept')).toBe('v');
  });
});
