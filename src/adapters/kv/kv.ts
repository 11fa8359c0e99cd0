/**
 * The key-value seam: lists that grow (a turn's streamed parts), plain values with expiry, and
 * notifications. In memory for one process (memory-kv.ts); in Redis (REDIS_URL, redis-kv.ts) for
 * several instances that act as one: what one appends or publishes, every other one reads.
 */
export interface Kv {
  readonly kind: 'memory' | 'redis' | 'durable-object';
  /** Appends to the list at `key`; returns its new length. */
  append(key: string, value: string): Promise<number>;
  /** Items from index `from` (0-based) to the end. */
  range(key: string, from: number): Promise<string[]>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  del(key: string): Promise<void>;
  /**
   * Adds `by` (default 1) to the counter at `key` atomically and returns its new value; a new
   * counter expires after `ttlSeconds` (Redis: INCRBY, then EXPIRE NX).
   */
  incr(key: string, ttlSeconds: number, by?: number): Promise<number>;
  /** Sets expiry on an existing key (list or value). */
  expire(key: string, ttlSeconds: number): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls `listener` for each message on `channel` until the returned function is called. */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void>;
  /** Lets go of its connections (nothing to do in memory). */
  close(): Promise<void>;
}
