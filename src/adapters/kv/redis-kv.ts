import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../logger.ts';
import type { Kv } from './kv.ts';

/** Why Redis could not be used at start-up; the message is safe to show (no password). */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface RedisKvOptions {
  /** Put before every key and channel, so a Redis shared with other applications is safe. */
  prefix?: string;
  logger?: Logger;
  /** The connections' name in Redis's CLIENT LIST (default constellation-agent). */
  name?: string;
  /** How long start-up waits for both connections (default 10 s). */
  connectTimeoutMs?: number;
}

/** One subscribed channel: its listeners, and the SUBSCRIBE they wait for. */
interface Channel {
  listeners: Set<(message: string) => void>;
  ready: Promise<unknown>;
}

/**
 * The KV in Redis, shared by every instance pointed at it. Lists are Streams whose entry ids are
 * `0-1`, `0-2`, … (XADD's `0-*` numbers them), so an entry's index is its id and reading from an
 * index is one XRANGE. Notifications are Redis pub/sub: one subscriber connection per instance
 * (a subscribed connection can do nothing else), fanned out to its listeners in process.
 * Needs Redis 7 (XADD `0-*`, EXPIRE NX); `connect` checks.
 */
export class RedisKv implements Kv {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly logger: Logger | undefined;
  private readonly channels = new Map<string, Channel>();
  private closing: Promise<void> | null = null;

  private constructor(redis: Redis, sub: Redis, prefix: string, logger: Logger | undefined) {
    this.redis = redis;
    this.sub = sub;
    this.prefix = prefix;
    this.logger = logger;
    sub.on('message', (channel: string, message: string) => this.deliver(channel, message));
  }

  /** Opens both connections and checks the server; throws RedisUnavailableError if it cannot. */
  static async connect(url: string, opts: RedisKvOptions = {}): Promise<RedisKv> {
    const where = redactedUrl(url);
    const errors: Error[] = [];
    // Until start-up is over, errors are collected for the message; after it, logged.
    let started = false;
    const options: RedisOptions = { lazyConnect: true, connectTimeout: opts.connectTimeoutMs ?? 10_000, connectionName: opts.name ?? 'constellation-agent' };
    const open = (role: string) => {
      const client = new Redis(url, options);
      client.on('error', (error: Error) => {
        if (!started) errors.push(error);
        // ioredis reconnects by itself; commands wait for it (and fail after a few retries).
        else opts.logger?.warn({ err: error.message, role }, 'Redis connection error; reconnecting');
      });
      return client;
    };
    const redis = open('commands');
    const sub = open('subscriber');
    const giveUp = (why: string) => {
      redis.disconnect();
      sub.disconnect();
      return new RedisUnavailableError(`Redis at ${where} ${why}`);
    };
    try {
      await withTimeout(Promise.all([redis.connect(), sub.connect()]), opts.connectTimeoutMs ?? 10_000);
    } catch (error) {
      const cause = errors[0] ?? (error as Error);
      throw giveUp(`did not answer: ${cause.message}`);
    }
    try {
      // A wrong password or a refusing ACL shows on the first command, not on connecting.
      await Promise.all([redis.ping(), sub.ping()]);
    } catch (error) {
      throw giveUp(`refused us: ${(error as Error).message}`);
    }
    // A server that will not say (INFO denied by its ACL) is taken at its word.
    const info = await redis.info('server').catch(() => '');
    const version = /^redis_version:(\d+)\./m.exec(info)?.[1];
    if (version !== undefined && Number(version) < 7) throw giveUp(`is version ${version}; the KV needs Redis 7 or later (XADD 0-*, EXPIRE NX)`);
    started = true;
    return new RedisKv(redis, sub, opts.prefix ?? 'constellation:', opts.logger);
  }

  async append(key: string, value: string): Promise<number> {
    const id = await this.redis.xadd(this.key(key), '0-*', 'v', value);
    return Number(id!.slice(2));
  }

  async range(key: string, from: number): Promise<string[]> {
    const entries = await this.redis.xrange(this.key(key), `0-${from + 1}`, '+');
    return entries.map(([, fields]) => fields[1]!);
  }

  async get(key: string): Promise<string | null> {
    return this.redis.get(this.key(key));
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds) await this.redis.set(this.key(key), value, 'EX', ttlSeconds);
    else await this.redis.set(this.key(key), value);
  }

  async del(key: string): Promise<void> {
    await this.redis.del(this.key(key));
  }

  async incr(key: string, ttlSeconds: number, by = 1): Promise<number> {
    // In one transaction: a counter never exists without its expiry, even if this process dies.
    const results = await this.redis.multi().incrby(this.key(key), by).expire(this.key(key), ttlSeconds, 'NX').exec();
    const [error, value] = results![0]!;
    if (error) throw error;
    return Number(value);
  }

  async expire(key: string, ttlSeconds: number): Promise<void> {
    await this.redis.expire(this.key(key), ttlSeconds);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(this.key(channel), message);
  }

  /**
   * Resolves once Redis has confirmed the subscription, so whatever is published after it is
   * delivered (turn-log subscribes, then reads back what came before).
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    const name = this.key(channel);
    let entry = this.channels.get(name);
    if (!entry) {
      entry = { listeners: new Set(), ready: this.sub.subscribe(name) };
      this.channels.set(name, entry);
    }
    // A wrapper of its own, so the same function subscribed twice is two subscriptions.
    const own = (message: string) => listener(message);
    entry.listeners.add(own);
    const unsubscribe = () => {
      if (!entry.listeners.delete(own) || entry.listeners.size > 0 || this.channels.get(name) !== entry) return;
      // The last listener left. A later subscribe sends SUBSCRIBE after this UNSUBSCRIBE, on the
      // same connection, so it is not undone by it.
      this.channels.delete(name);
      if (!this.closing) this.sub.unsubscribe(name).catch((error: Error) => this.logger?.warn({ err: error.message }, 'Redis unsubscribe failed'));
    };
    try {
      await entry.ready;
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.closing ??= Promise.all([quit(this.redis), quit(this.sub)]).then(() => undefined);
    return this.closing;
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  private deliver(channel: string, message: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    for (const listener of [...entry.listeners]) {
      try {
        listener(message);
      } catch (error) {
        // One listener's failure is its own: the others still get the message.
        this.logger?.error({ err: (error as Error).message, channel }, 'a KV listener threw');
      }
    }
  }
}

/** QUIT when connected (replies already asked for still come); otherwise stop reconnecting. */
async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(REDIS_URL is not a URL)';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
