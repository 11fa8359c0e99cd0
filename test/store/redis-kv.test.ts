import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisKv, RedisUnavailableError } from '../../src/adapters/kv/redis-kv.ts';
import { freePort } from '../support/postgres-server.ts';

// What the contract (kv-contract.test.ts) cannot see: how the data sits in Redis, and the connections.
describe('RedisKv', () => {
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(inject('redisUrl'));
  });
  afterAll(() => raw.quit());

  // Other test files share this Redis: everything here is named apart.
  const unique = (what: string) => `${what}-${randomBytes(4).toString('hex')}`;

  it('keeps everything under its prefix, lists as streams numbered from 0-1', async () => {
    const [a, b] = [unique('app-a'), unique('app-b')];
    const kv = await RedisKv.connect(inject('redisUrl'), { prefix: `${a}:` });
    const neighbour = await RedisKv.connect(inject('redisUrl'), { prefix: `${b}:` });
    try {
      await kv.append('turn:1:chunks', '{"type":"start"}');
      await kv.append('turn:1:chunks', '{"type":"finish"}');
      await kv.set('chat:1:turn', '1', 60);
      expect(await raw.type(`${a}:turn:1:chunks`)).toBe('stream');
      expect(await raw.xrange(`${a}:turn:1:chunks`, '-', '+')).toEqual([
        ['0-1', ['v', '{"type":"start"}']],
        ['0-2', ['v', '{"type":"finish"}']],
      ]);
      expect(await raw.get(`${a}:chat:1:turn`)).toBe('1');
      // Another application (or test) on the same Redis under another prefix sees none of it.
      expect(await neighbour.range('turn:1:chunks', 0)).toEqual([]);
      expect(await neighbour.get('chat:1:turn')).toBeNull();
    } finally {
      await Promise.all([kv.close(), neighbour.close()]);
    }
  });

  it('subscribes a channel once however many listen, and leaves it with the last', async () => {
    const prefix = unique('subs');
    const kv = await RedisKv.connect(inject('redisUrl'), { prefix: `${prefix}:` });
    const subscribers = async () => ((await raw.pubsub('NUMSUB', `${prefix}:turn:1`)) as [string, number])[1];
    try {
      const stops = await Promise.all([1, 2, 3].map(() => kv.subscribe('turn:1', () => undefined)));
      expect(await subscribers()).toBe(1);
      stops[0]!();
      stops[1]!();
      expect(await subscribers()).toBe(1);
      stops[2]!();
      await expect.poll(subscribers).toBe(0);
    } finally {
      await kv.close();
    }
  });

  it('closes both of its connections, and twice is harmless', async () => {
    const name = unique('closing');
    const clients = async () => String(await raw.client('LIST')).split('\n').filter((line: string) => line.includes(` name=${name} `)).length;
    const kv = await RedisKv.connect(inject('redisUrl'), { name });
    expect(await clients()).toBe(2);
    await kv.close();
    await kv.close();
    await expect.poll(clients).toBe(0);
  });

  it('says which Redis did not answer, without its password', async () => {
    const port = await freePort();
    const error = await RedisKv.connect(`redis://:hunter2@127.0.0.1:${port}`, { connectTimeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).not.toContain('hunter2');
  });
});
