import { randomBytes } from 'node:crypto';
import { afterEach, inject } from 'vitest';
import type { Kv } from '../../src/adapters/kv/kv.ts';
import { MemoryKv } from '../../src/adapters/kv/memory-kv.ts';
import { RedisKv } from '../../src/adapters/kv/redis-kv.ts';

export type KvKind = 'memory' | 'redis';
export const KV_KINDS: KvKind[] = ['memory', 'redis'];

export type TestKv = Kv & {
  /** A second handle on the same data, as a second service instance has (in memory, the same object). */
  another(): Promise<Kv>;
};

/**
 * A new, empty KV of the given kind: a MemoryKv, or a RedisKv on the test Redis under a prefix of
 * its own (memory is one process's, so its "other instance" is itself).
 */
export async function freshKv(kind: KvKind): Promise<TestKv> {
  if (kind === 'memory') {
    const kv = new MemoryKv();
    return Object.assign(kv, { another: async () => kv });
  }
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  const open = () => RedisKv.connect(inject('redisUrl'), { prefix });
  return Object.assign(await open(), { another: open });
}

/**
 * For a describe block: a function that makes a fresh KV of the kind for the test that calls it;
 * it and the handles its `another()` opens are closed after that test.
 */
export function kvPerTest(kind: KvKind): () => Promise<TestKv> {
  const opened: Kv[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((kv) => kv.close()));
  });
  return async () => {
    const kv = await freshKv(kind);
    opened.push(kv);
    const another = kv.another;
    kv.another = async () => {
      const other = await another();
      opened.push(other);
      return other;
    };
    return kv;
  };
}
