import { DurableObject, type WorkersWebSocket } from 'cloudflare:workers';

/** A list's items sort by index as strings: `i:` and the index, zero-padded. */
const item = (index: number) => `i:${String(index).padStart(12, '0')}`;

interface Head {
  kind: 'list' | 'value';
  /** The value, or the list's length. */
  value: string | number;
  /** Epoch ms after which the key is gone. */
  expires?: number;
}

declare const WebSocketPair: new () => { 0: WorkersWebSocket; 1: WorkersWebSocket };

/**
 * One KV key (or one channel) of the Worker's KV (adapters/kv/durable-object-kv.ts), with the
 * semantics of MemoryKv and Redis: a list or a value, an optional expiry (an alarm clears the
 * storage then), counters, and subscribers on WebSockets for a channel. The runtime runs one call
 * of an object at a time, so read-modify-write here is atomic.
 */
export class KvObject extends DurableObject {
  async append(value: string): Promise<number> {
    const head = await this.head();
    const length = head?.kind === 'list' ? (head.value as number) + 1 : 1;
    if (head?.kind === 'value') await this.ctx.storage.deleteAll();
    await this.ctx.storage.put({ head: { ...(head?.kind === 'list' ? head : { kind: 'list' }), value: length } satisfies Head, [item(length - 1)]: value });
    return length;
  }

  async range(from: number): Promise<string[]> {
    const head = await this.head();
    if (head?.kind !== 'list') return [];
    const items = await this.ctx.storage.list<string>({ prefix: 'i:', start: item(from) });
    return [...items.values()];
  }

  async get(): Promise<string | null> {
    const head = await this.head();
    return head?.kind === 'value' ? (head.value as string) : null;
  }

  async set(value: string, ttlSeconds?: number): Promise<void> {
    const head = await this.head();
    if (head?.kind === 'list') await this.ctx.storage.deleteAll();
    await this.write({ kind: 'value', value, ...(ttlSeconds ? { expires: Date.now() + ttlSeconds * 1000 } : {}) });
  }

  async del(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  async incr(ttlSeconds: number, by: number): Promise<number> {
    const head = await this.head();
    if (head?.kind === 'value') {
      const value = Number(head.value) + by;
      await this.ctx.storage.put('head', { ...head, value: String(value) } satisfies Head);
      return value;
    }
    if (head) await this.ctx.storage.deleteAll();
    await this.write({ kind: 'value', value: String(by), expires: Date.now() + ttlSeconds * 1000 });
    return by;
  }

  async expire(ttlSeconds: number): Promise<void> {
    const head = await this.head();
    if (head) await this.write({ ...head, expires: Date.now() + ttlSeconds * 1000 });
  }

  async publish(message: string): Promise<void> {
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
      } catch {
        // A subscriber that went away; the runtime drops its socket.
      }
    }
  }

  /** A subscriber's WebSocket (DurableObjectKv.subscribe). */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('expected a WebSocket upgrade', { status: 426 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
  }

  async webSocketClose(socket: WorkersWebSocket, code: number): Promise<void> {
    try {
      socket.close(code === 1005 ? 1000 : code, 'closed');
    } catch {
      // Already closed.
    }
  }

  /** An expired key is gone, whatever the alarm has done yet. */
  async alarm(): Promise<void> {
    const head = await this.ctx.storage.get<Head>('head');
    if (head?.expires !== undefined && head.expires <= Date.now()) await this.ctx.storage.deleteAll();
    else if (head?.expires !== undefined) await this.ctx.storage.setAlarm(head.expires);
  }

  private async head(): Promise<Head | undefined> {
    const head = await this.ctx.storage.get<Head>('head');
    if (head?.expires !== undefined && head.expires <= Date.now()) {
      await this.ctx.storage.deleteAll();
      return undefined;
    }
    return head;
  }

  private async write(head: Head): Promise<void> {
    await this.ctx.storage.put('head', head);
    if (head.expires !== undefined) await this.ctx.storage.setAlarm(head.expires);
    else await this.ctx.storage.deleteAlarm();
  }
}
