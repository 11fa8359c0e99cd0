import type { UIMessageChunk } from 'ai';

export interface ChunkWriter {
  write(chunk: UIMessageChunk): void;
}

export interface WriteChunksOptions {
  /** Each chunk, in the order written, one at a time: the next waits for this one's promise. */
  deliver(chunk: UIMessageChunk): Promise<void>;
  /** The text of the `error` chunk that ends a turn whose `execute` threw. */
  onError(error: unknown): string;
  /** Called once if `deliver` fails; nothing more is delivered, and `writeChunks` rejects with it. */
  onDeliveryError?(error: unknown): void;
}

/**
 * Runs `execute` with a writer on the contract of the ai package's `createUIMessageStream`: what
 * is written is delivered in order, a thrown error ends the stream with an `error` chunk whose text
 * `onError` chose, and nothing written after the end goes out. It settles once every chunk is
 * delivered.
 *
 * Why not `createUIMessageStream` itself: its ReadableStream, piped through a TransformStream,
 * held about 12 KB for as long as a turn runs (500 held turns: 53 KB each with it, 41 KB without;
 * see the chat memory figure in `npm run bench`), and a turn runs as long as its model and tools
 * take. Here a chunk goes from the writer to `deliver` (the turn log) with no stream between.
 * The chunks are the ai package's own type, and the tests read the result with its own reader.
 */
export async function writeChunks(execute: (writer: ChunkWriter) => Promise<void>, opts: WriteChunksOptions): Promise<void> {
  const queue: UIMessageChunk[] = [];
  let draining: Promise<void> | null = null;
  let open = true;
  let failed = false;
  let failure: unknown;

  const drain = async () => {
    try {
      // One delivery at a time, in order; chunks written meanwhile wait in the queue.
      while (queue.length > 0) await opts.deliver(queue.shift()!);
    } catch (error) {
      failed = true;
      failure = error;
      open = false;
      queue.length = 0;
      opts.onDeliveryError?.(error);
    } finally {
      draining = null;
    }
  };
  const write = (chunk: UIMessageChunk) => {
    if (!open) return;
    queue.push(chunk);
    draining ??= drain();
  };

  try {
    await execute({ write });
  } catch (error) {
    write({ type: 'error', errorText: opts.onError(error) });
  }
  open = false;
  while (draining) await draining;
  if (failed) throw failure;
}
