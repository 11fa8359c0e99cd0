import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';

/**
 * The assistant message a turn's chunks make, for the store: built by the AI SDK's own reader
 * (`readUIMessageStream`, what `useChat` runs), so the stored message is the one the client shows.
 *
 * Chunks are kept as they come and read at step ends, not piped through the reader as they
 * stream: a turn held open for minutes would otherwise hold the reader's chain of web streams
 * (~7 KB per stage; see the chat memory figure in `npm run bench`). Consecutive deltas of one text
 * or one tool input are kept as one chunk; the message they make is the same.
 */
export class MessageAssembler {
  private message: UIMessage | undefined;
  private pending: UIMessageChunk[] = [];

  /** `continuing`: the stored assistant message this turn carries on (after an approval). */
  constructor(continuing?: UIMessage) {
    this.message = continuing;
  }

  add(chunk: UIMessageChunk): void {
    const last = this.pending.at(-1);
    if (chunk.type === 'text-delta' && last?.type === 'text-delta' && last.id === chunk.id) {
      this.pending[this.pending.length - 1] = { ...last, delta: last.delta + chunk.delta };
    } else if (chunk.type === 'tool-input-delta' && last?.type === 'tool-input-delta' && last.toolCallId === chunk.toolCallId) {
      this.pending[this.pending.length - 1] = { ...last, inputTextDelta: last.inputTextDelta + chunk.inputTextDelta };
    } else {
      this.pending.push(chunk);
    }
  }

  /** The message with every chunk added so far; undefined while the turn has not started one. */
  async read(): Promise<UIMessage | undefined> {
    if (this.pending.length === 0) return this.message;
    const chunks = this.pending;
    this.pending = [];
    // An error chunk (a failed turn) is part of the stream to keep, not a reason to stop reading.
    const stream = new ReadableStream<UIMessageChunk>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const snapshots = readUIMessageStream({ stream, onError: () => {}, ...(this.message ? { message: this.message } : {}) });
    for await (const snapshot of snapshots) this.message = snapshot;
    return this.message;
  }
}
