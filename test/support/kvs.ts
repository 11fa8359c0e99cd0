import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Kv } from '../../src/adapters/kv/kv.ts';
import { MemoryKv } from '../../src/adapters/kv/memory-kv.ts';
import { RedisKv } from '../../src/adapters/kv/redis-kv.ts';

export type KvKind = 'memory' | 'redis';
export const KV_KINDS: KvKind[] = ['memory', 'redis'];

/**
 * A new, empty KV of the given kind: a MemoryKv, or a RedisKv on the test Redis under a prefix
 * of its own. `another()` is a second handle on the same data, as a second service instance
 * would have (in memory that is the same object: memory is one process's).
 */
export async function freshKv(kind: KvKind): Promise<Kv & { another(): Promise<Kv> }> {
  if (kind === 'memory') {
    const kv = new MemoryKv();
    return Object.assign(kv, { another: async () => kv });
  }
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  const open = () => RedisKv.connect(inject('redisUrl'), { prefix });
  const kv = await open();
  return Object.assign(kv, { another: open });
}
