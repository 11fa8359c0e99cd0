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
  private readonly message: UIMessage;
  private pending: UIMessageChunk[] = [];
  /** How many pending chunks end with a step's end: what `read()` takes. */
  private throughStepEnd = 0;

  /**
   * `message`: the assistant message the turn writes, as it stands before its first chunk (a new,
   * empty one with the id the turn's `start` chunk will carry, or the stored one it carries on). The
   * reader updates it in place; it is read from there rather than from the reader's snapshots,
   * which leave out what a batch's last chunks did when those emit none (a `start-step`).
   */
  constructor(message: UIMessage) {
    this.message = message;
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
    if (chunk.type === 'finish-step') this.throughStepEnd = this.pending.length;
  }

  /**
   * The message as of the last step end added (the same object, updated), or with every chunk
   * added when `to` is 'all' (the turn is over). A step end is where a read may stop: a text or a
   * tool input still streaming would not carry over to the next read.
   */
  async read(to: 'step' | 'all' = 'step'): Promise<UIMessage> {
    const count = to === 'all' ? this.pending.length : this.throughStepEnd;
    if (count === 0) return this.message;
    const chunks = this.pending.splice(0, count);
    this.throughStepEnd = 0;
    // An error chunk (a failed turn) is part of the stream to keep, not a reason to stop reading.
    const stream = new ReadableStream<UIMessageChunk>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    for await (const _snapshot of readUIMessageStream({ stream, message: this.message, onError: () => {} }));
    return this.message;
  }
}
