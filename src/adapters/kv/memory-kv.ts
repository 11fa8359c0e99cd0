import { EventEmitter } from 'node:events';
import type { Kv } from './kv.ts';

/**
 * One process's KV: the embedded default. Expired keys are dropped when next touched, and all of
 * them at most a minute apart on a write (a finished turn's log is never touched again).
 */
export class MemoryKv implements Kv {
  readonly kind = 'memory';
  private readonly values = new Map<string, { value: string[] | string; expires?: number }>();
  private readonly events = new EventEmitter();
  private readonly sweepEveryMs: number;
  private nextSweep: number;

  constructor(opts: { sweepEveryMs?: number } = {}) {
    this.sweepEveryMs = opts.sweepEveryMs ?? 60_000;
    this.nextSweep = Date.now() + this.sweepEveryMs;
    // Every open stream listens on its turn's channel; there can be thousands.
    this.events.setMaxListeners(0);
  }

  async append(key: string, value: string): Promise<number> {
    this.sweepWhenDue();
    const entry = this.live(key);
    if (entry && Array.isArray(entry.value)) {
      entry.value.push(value);
      return entry.value.length;
    }
    this.values.set(key, { value: [value] });
    return 1;
  }

  async range(key: string, from: number): Promise<string[]> {
    const entry = this.live(key);
    return entry && Array.isArray(entry.value) ? entry.value.slice(from) : [];
  }

  async get(key: string): Promise<string | null> {
    const entry = this.live(key);
    return entry && typeof entry.value === 'string' ? entry.value : null;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.sweepWhenDue();
    this.values.set(key, { value, ...(ttlSeconds ? { expires: Date.now() + ttlSeconds * 1000 } : {}) });
  }

  async incr(key: string, ttlSeconds: number, by = 1): Promise<number> {
    this.sweepWhenDue();
    const entry = this.live(key);
    if (entry && typeof entry.value === 'string') {
      entry.value = String(Number(entry.value) + by);
      return Number(entry.value);
    }
    this.values.set(key, { value: String(by), expires: Date.now() + ttlSeconds * 1000 });
    return by;
  }

  async del(key: string): Promise<void> {
    this.values.delete(key);
  }

  async expire(key: string, ttlSeconds: number): Promise<void> {
    const entry = this.live(key);
    if (entry) entry.expires = Date.now() + ttlSeconds * 1000;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.events.emit(channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    this.events.on(channel, listener);
    return () => {
      this.events.off(channel, listener);
    };
  }

  async close(): Promise<void> {}

  private sweepWhenDue(): void {
    const now = Date.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.sweepEveryMs;
    for (const [key, entry] of this.values) if (entry.expires !== undefined && entry.expires < now) this.values.delete(key);
  }

  /** How many keys are held, expired or not (for tests of the sweep). */
  get size(): number {
    return this.values.size;
  }

  private live(key: string) {
    const entry = this.values.get(key);
    if (entry?.expires !== undefined && entry.expires < Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry;
  }
}
