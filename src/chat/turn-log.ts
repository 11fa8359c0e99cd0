import { randomUUID } from 'node:crypto';
import type { UIMessageChunk } from 'ai';
import type { Kv } from '../adapters/kv/kv.ts';

/** Published when the turn is over (its message stored): the chat is free. */
const END = '__end__';
/** Published after the turn's last chunk (finish, error or abort): readers are done. */
const CLOSED = '__closed__';
const LAST_CHUNKS = new Set(['finish', 'error', 'abort']);
/** What the readers of a turn whose instance is gone are told (its model stream went with it). */
export const TURN_ABANDONED = 'The server running this turn stopped before the turn ended. Send your message again.';

/**
 * Each turn's chunks, numbered and kept in the KV store while it runs (and an hour after), so a
 * client that dropped can read the turn again from its start, or from the last event it saw, and
 * then follow it live. The turn itself never depends on anyone reading.
 */
export class TurnLog {
  private readonly kv: Kv;
  private readonly ttlSeconds: number;

  private readonly closingWaitMs: number;
  /**
   * How long a running turn holds its chat without its instance renewing the claim (see
   * keepAlive): a turn whose instance was killed frees the chat this long after, not at the TTL.
   */
  private readonly leaseSeconds: number;
  /** Told when a reader's stream opens and when it ends (the open-streams gauge). */
  private readonly streams: { opened(): void; closed(): void } | undefined;

  constructor(kv: Kv, opts: { ttlSeconds?: number; closingWaitMs?: number; leaseSeconds?: number; streams?: { opened(): void; closed(): void } } = {}) {
    this.kv = kv;
    this.streams = opts.streams;
    this.ttlSeconds = opts.ttlSeconds ?? 3600;
    this.closingWaitMs = opts.closingWaitMs ?? 10_000;
    this.leaseSeconds = opts.leaseSeconds ?? 30;
  }

  /**
   * Claims the chat for a new turn; null when one is running. Of two claims made at once (a double
   * submit, two tabs) only one wins: each appends to a list named after the turn before it, and only
   * the first to append there goes ahead (a read-then-set alone let both through).
   *
   * A turn that has streamed its last chunk but is still storing its message is waited for: a
   * client that read to the end (or stopped at an error) and sends at once must not be refused.
   */
  async begin(chatId: string): Promise<string | null> {
    const previous = await this.kv.get(`chat:${chatId}:turn`);
    if (previous && !(await this.over(previous)) && !(await this.abandonIfGone(previous))) return null;
    const turnId = randomUUID();
    const claims = `chat:${chatId}:after:${previous ?? 'none'}`;
    if ((await this.kv.append(claims, turnId)) !== 1) return null;
    await this.kv.expire(claims, this.ttlSeconds);
    // The lease first: the turn is never seen as running without one.
    await this.kv.set(`turn:${turnId}:alive`, '1', this.leaseSeconds);
    await this.kv.set(`chat:${chatId}:turn`, turnId, this.ttlSeconds);
    return turnId;
  }

  /**
   * Renews the turn's lease while the instance runs it, three times per lease; call the returned
   * function when the turn ends. A renewal that fails (the KV briefly gone) is tried again at the
   * next tick: the lease outlasts two misses.
   */
  keepAlive(turnId: string): () => void {
    const timer = setInterval(() => {
      this.kv.set(`turn:${turnId}:alive`, '1', this.leaseSeconds).catch(() => {});
    }, (this.leaseSeconds * 1000) / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Whether the turn's lease ran out (its instance was killed); if so, and it had not ended, ends
   * it: its log gets an `error` chunk saying to send again, unless its last chunk was already
   * written, so its readers stop waiting, and the chat is free. Of several instances noticing at
   * once, one writes that.
   */
  private async abandonIfGone(turnId: string): Promise<boolean> {
    if ((await this.kv.get(`turn:${turnId}:alive`)) !== null) return false;
    if ((await this.kv.get(`turn:${turnId}:done`)) !== null) return true;
    if ((await this.kv.append(`turn:${turnId}:abandoned`, '1')) === 1) {
      await this.kv.expire(`turn:${turnId}:abandoned`, this.ttlSeconds);
      if ((await this.kv.get(`turn:${turnId}:closing`)) === null) await this.append(turnId, { type: 'error', errorText: TURN_ABANDONED });
      await this.end('', turnId);
    }
    return true;
  }

  /** Whether this chat had a turn lately (within the log's TTL): a chat known to exist. */
  async seen(chatId: string): Promise<boolean> {
    return (await this.kv.get(`chat:${chatId}:turn`)) !== null;
  }

  /** The turn running in this chat, if any (one whose instance is gone is ended here: none). */
  async running(chatId: string): Promise<string | null> {
    const turnId = await this.kv.get(`chat:${chatId}:turn`);
    if (!turnId) return null;
    if (await this.kv.get(`turn:${turnId}:done`)) return null;
    return (await this.abandonIfGone(turnId)) ? null : turnId;
  }

  /**
   * Logs the turn's next chunk. Its last one (finish, error or abort) also closes the turn's
   * streams, before the turn is over: its message is still being stored (see `begin`, `settled`).
   */
  async append(turnId: string, chunk: UIMessageChunk): Promise<void> {
    const json = JSON.stringify(chunk);
    const length = await this.kv.append(`turn:${turnId}:chunks`, json);
    if (length === 1) await this.kv.expire(`turn:${turnId}:chunks`, this.ttlSeconds);
    const last = LAST_CHUNKS.has(chunk.type);
    // Set after the chunk is in the list: a reader that sees the flag finds the chunk there.
    if (last) await this.kv.set(`turn:${turnId}:closing`, '1', this.ttlSeconds);
    // The notification carries the chunk, so a reader that is up to date needs no read back.
    await this.kv.publish(`turn:${turnId}`, `${length - 1} ${json}`);
    if (last) await this.kv.publish(`turn:${turnId}`, CLOSED);
  }

  /**
   * Waits (at most `ms`) for a turn of this chat that has streamed its last chunk to be over, so
   * what is read next from the store includes its message.
   */
  async settled(chatId: string): Promise<void> {
    const turnId = await this.kv.get(`chat:${chatId}:turn`);
    if (turnId) await this.over(turnId);
  }

  /** Whether the turn is over: it ended, or it has streamed its last chunk and ends soon after. */
  private async over(turnId: string): Promise<boolean> {
    if (await this.kv.get(`turn:${turnId}:done`)) return true;
    return (await this.kv.get(`turn:${turnId}:closing`)) !== null && this.ended(turnId, this.closingWaitMs);
  }

  /** Whether the turn ends within `ms`. */
  private async ended(turnId: string, ms: number): Promise<boolean> {
    let done!: (ended: boolean) => void;
    const result = new Promise<boolean>((resolve) => (done = resolve));
    const unsubscribe = await this.kv.subscribe(`turn:${turnId}`, (message) => {
      if (message === END) done(true);
    });
    const timer = setTimeout(() => done(false), ms);
    // Subscribed first, so an end between this read and the subscription is not missed.
    if (await this.kv.get(`turn:${turnId}:done`)) done(true);
    try {
      return await result;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  }

  /**
   * Records that the turn was asked to stop, for an instance that was not yet listening when the
   * stop was announced (see `stopRequested`). Recorded before it is announced.
   */
  async requestStop(turnId: string): Promise<void> {
    await this.kv.set(`turn:${turnId}:stop`, '1', this.ttlSeconds);
  }

  /** Whether a stop was asked for this turn (by any instance). */
  async stopRequested(turnId: string): Promise<boolean> {
    return (await this.kv.get(`turn:${turnId}:stop`)) !== null;
  }

  async end(_chatId: string, turnId: string): Promise<void> {
    await this.kv.set(`turn:${turnId}:done`, '1', this.ttlSeconds);
    await this.kv.publish(`turn:${turnId}`, END);
    // `chat:…:turn` stays (until it expires): the next begin() names its claim after this turn.
  }

  /**
   * The turn as SSE in the AI SDK UI message stream framing: its chunks from number `from` on, then
   * live ones as they come, each event's number as its id (for Last-Event-ID), and `[DONE]` when
   * the turn ends. One stream per reader, framing included: every extra stream stage costs a held
   * turn some 7 KB (see the chat memory figure in `npm run bench`).
   */
  sse(turnId: string, from = 0): ReadableStream<Uint8Array> {
    let next = from;
    let unsubscribe: (() => void) | null = null;
    let pulling = false;
    let again = false;
    let open = true; // until the reader cancels or the stream closes
    const kv = this.kv;
    const streams = this.streams;
    const abandonIfGone = () => this.abandonIfGone(turnId).catch(() => false);
    const leaseMs = this.leaseSeconds * 1000;
    let counted = false;
    const uncount = () => {
      if (counted) streams?.closed();
      counted = false;
    };
    return new ReadableStream<Uint8Array>({
      async start(controller) {
        let closed = false;
        // Events that come together (one model read makes several) go out as one write.
        let batch = '';
        const flush = () => {
          if (!open || !batch) return;
          controller.enqueue(encoder.encode(batch));
          batch = '';
        };
        const send = (json: string) => {
          if (!open) return;
          if (!batch) setImmediate(flush);
          batch += `id: ${next++}\ndata: ${json}\n\n`;
        };
        const finish = () => {
          unsubscribe?.();
          if (!open) return;
          flush();
          open = false;
          controller.enqueue(DONE);
          controller.close();
          uncount();
        };
        const drain = async () => {
          // One reader at a time; a notification during a read asks for one more pass.
          if (pulling) {
            again = true;
            return;
          }
          pulling = true;
          try {
            do {
              again = false;
              // The flag first: if it is set, every chunk is already in the list read next.
              const over = closed || (await kv.get(`turn:${turnId}:closing`)) !== null || (await kv.get(`turn:${turnId}:done`)) !== null;
              for (const raw of await kv.range(`turn:${turnId}:chunks`, next)) send(raw);
              if (over) return finish();
              // What was read back goes out at once: a reader that (re)connects waits for it.
              flush();
            } while (again);
          } catch (error) {
            unsubscribe?.();
            if (open) controller.error(error);
            open = false;
            uncount();
          } finally {
            pulling = false;
          }
        };
        const onMessage = (message: string) => {
          if (message === CLOSED || message === END) {
            closed = true;
            void drain();
            return;
          }
          const space = message.indexOf(' ');
          const index = Number(message.slice(0, space));
          // In order and nobody reading the list: take the chunk from the notification itself.
          if (!pulling && index === next) send(message.slice(space + 1));
          else if (index >= next) void drain();
        };
        // Subscribe before the first read so nothing appended in between is missed.
        const unsubscribeChannel = await kv.subscribe(`turn:${turnId}`, onMessage);
        // Once a lease, this reader looks for itself. A turn whose instance was killed writes no
        // last chunk: this reader then ends it (see abandonIfGone), and the error chunk that writes
        // closes the stream. And a notification lost (Redis's pub/sub does not replay what was
        // published while a subscriber reconnected) is made up for by reading the log.
        const watch = setInterval(() => void abandonIfGone().then(drain), leaseMs);
        watch.unref();
        unsubscribe = () => {
          clearInterval(watch);
          unsubscribeChannel();
        };
        if (!open) return unsubscribe(); // cancelled while subscribing
        counted = true;
        streams?.opened();
        await drain();
      },
      cancel() {
        open = false;
        unsubscribe?.();
        uncount();
      },
    });
  }
}

const encoder = new TextEncoder();
const DONE = encoder.encode('data: [DONE]\n\n');
