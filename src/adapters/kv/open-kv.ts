import { ConfigError } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import type { Kv } from './kv.ts';
import { MemoryKv } from './memory-kv.ts';
import { RedisKv, RedisUnavailableError } from './redis-kv.ts';

/**
 * Redis when REDIS_URL is given (instances that share it act as one), else this process's memory.
 * A Redis that does not answer stops start-up: running on in memory would split the instances.
 */
export async function openKv(opts: { redisUrl?: string; logger?: Logger }): Promise<Kv> {
  if (!opts.redisUrl) return new MemoryKv();
  try {
    return await RedisKv.connect(opts.redisUrl, opts.logger ? { logger: opts.logger } : {});
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    throw new ConfigError(
      `REDIS_URL: ${error.message}.\n` +
        "  Start Redis there, correct REDIS_URL, or unset it to keep chat turns and counters in this process's memory (one instance only).",
    );
  }
}
