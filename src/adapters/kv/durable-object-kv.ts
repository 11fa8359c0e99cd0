import type { Kv } from './kv.ts';

/** What the Worker calls on one key's Durable Object (src/workers/kv-object.ts), over Workers RPC. */
export interface KvObjectStub {
  append(value: string): Promise<number>;
  range(from: number): Promise<string[]>;
  get(): Promise<string | null>;
  set(value: string, ttlSeconds?: number): Promise<void>;
  del(): Promise<void>;
  incr(ttlSeconds: number, by: number): Promise<number>;
  expire(ttlSeconds: number): Promise<void>;
  publish(message: string): Promise<void>;
  /** A WebSocket upgrade request: the object sends each published message on it. */
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** The Durable Object namespace binding (wrangler.toml: durable_objects.bindings KV). */
export interface KvObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): KvObjectStub;
}

/** The Workers runtime's WebSocket, as far as a subscriber uses it. */
interface WorkersWebSocket {
  accept(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close(code?: number, reason?: string): void;
}

/**
 * The KV on Cloudflare Workers: one Durable Object per key (and per channel), so every isolate
 * of the Worker, wherever it runs, reads and writes the same value; an object handles one call
 * at a time, which makes append and incr atomic as Redis makes them. Subscribers hold a WebSocket
 * to the channel's object, which pushes each published message to them.
 */
export class DurableObjectKv implements Kv {
  readonly kind = 'durable-object';
  private readonly namespace: KvObjectNamespace;

  constructor(namespace: KvObjectNamespace) {
    this.namespace = namespace;
  }

  /** Nothing to close: each call is a request to an object, and each subscription closes its own socket. */
  async close(): Promise<void> {}

  append(key: string, value: string) {
    return this.key(key).append(value);
  }

  range(key: string, from: number) {
    return this.key(key).range(from);
  }

  get(key: string) {
    return this.key(key).get();
  }

  set(key: string, value: string, ttlSeconds?: number) {
    return this.key(key).set(value, ttlSeconds);
  }

  del(key: string) {
    return this.key(key).del();
  }

  incr(key: string, ttlSeconds: number, by = 1) {
    return this.key(key).incr(ttlSeconds, by);
  }

  expire(key: string, ttlSeconds: number) {
    return this.key(key).expire(ttlSeconds);
  }

  publish(channel: string, message: string) {
    return this.channel(channel).publish(message);
  }

  /** Resolves once the channel's object holds the socket, so no message published after is missed. */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    const response = await this.channel(channel).fetch('https://kv.internal/subscribe', { headers: { upgrade: 'websocket' } });
    const socket = (response as Response & { webSocket?: WorkersWebSocket | null }).webSocket;
    if (response.status !== 101 || !socket) throw new Error(`the KV's channel object refused a subscription (HTTP ${response.status})`);
    socket.accept();
    socket.addEventListener('message', (event) => listener(String(event.data)));
    return () => socket.close(1000, 'unsubscribed');
  }

  // Keys and channels are apart: a turn's log and its channel share a name (see chat/turn-log.ts).
  private key(key: string) {
    return this.namespace.get(this.namespace.idFromName(`key:${key}`));
  }

  private channel(channel: string) {
    return this.namespace.get(this.namespace.idFromName(`channel:${channel}`));
  }
}
