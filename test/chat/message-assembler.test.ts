import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import { MessageAssembler } from '../../src/chat/message-assembler.ts';

/** What a client builds from the whole stream read at once, chunk by chunk. */
async function clientView(chunks: UIMessageChunk[], message?: UIMessage): Promise<UIMessage | undefined> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  let last: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream, onError: () => {}, ...(message ? { message } : {}) })) last = m;
  return last;
}

const args = JSON.stringify({ query: 'incremental postgres', limit: 5 });
const turn: UIMessageChunk[][] = [
  [
    { type: 'start', messageId: 'msg_1' },
    { type: 'start-step' },
    { type: 'text-start', id: 't1' },
    ...'Let me look.'.split(' ').map((w): UIMessageChunk => ({ type: 'text-delta', id: 't1', delta: `${w} ` })),
    { type: 'text-end', id: 't1' },
    { type: 'tool-input-start', toolCallId: 'c1', toolName: 'search_block_types' },
    ...args.match(/.{1,7}/g)!.map((piece): UIMessageChunk => ({ type: 'tool-input-delta', toolCallId: 'c1', inputTextDelta: piece })),
    { type: 'tool-input-available', toolCallId: 'c1', toolName: 'search_block_types', input: JSON.parse(args) },
    { type: 'data-progress', id: 'c1', data: { done: 1, total: 2 }, transient: true } as UIMessageChunk,
    { type: 'tool-output-available', toolCallId: 'c1', output: { results: [{ type: 'postgres_incremental_extract@1' }] } },
    { type: 'data-validation', id: 'c1', data: { valid: true } } as UIMessageChunk,
    { type: 'finish-step' },
  ],
  [
    { type: 'start-step' },
    { type: 'tool-input-start', toolCallId: 'c2', toolName: 'compile_pipeline' },
    { type: 'tool-input-error', toolCallId: 'c2', toolName: 'compile_pipeline', input: '{"pipeline_id":', errorText: 'not valid JSON' },
    { type: 'tool-input-start', toolCallId: 'c3', toolName: 'deploy_pipeline' },
    { type: 'tool-input-available', toolCallId: 'c3', toolName: 'deploy_pipeline', input: { pipeline_id: 'p1', environment: 'production' } },
    { type: 'tool-approval-request', approvalId: 'approval_1', toolCallId: 'c3' },
    { type: 'finish-step' },
  ],
  [{ type: 'error', errorText: 'The language model endpoint failed (HTTP 500).' }, { type: 'finish' }],
];

const fresh = (): UIMessage => ({ id: 'msg_1', role: 'assistant', parts: [] });

describe('MessageAssembler', () => {
  it('stores, step by step, the message a client builds from the whole stream', async () => {
    const assembler = new MessageAssembler(fresh());
    const byStep: Array<UIMessage | undefined> = [];
    for (const step of turn) {
      for (const chunk of step) assembler.add(chunk);
      byStep.push(structuredClone(await assembler.read('all')));
    }
    expect(byStep[0]).toEqual(await clientView(turn[0]!));
    expect(byStep[1]).toEqual(await clientView(turn.slice(0, 2).flat()));
    expect(byStep[2]).toEqual(await clientView(turn.flat()));
    // What the steps made, in the client's own terms.
    expect(byStep[2]!.parts.map((p) => [p.type, 'state' in p ? p.state : undefined])).toEqual([
      ['step-start', undefined],
      ['text', 'done'],
      ['tool-search_block_types', 'output-available'],
      ['data-validation', undefined],
      ['step-start', undefined],
      ['tool-compile_pipeline', 'output-error'],
      ['tool-deploy_pipeline', 'approval-requested'],
    ]);
    // Nothing new: the same message, not a new read.
    expect(await assembler.read()).toBe(await assembler.read());
  });

  it('reads to the last step end, keeping what came after it for the next read', async () => {
    const assembler = new MessageAssembler(fresh());
    const [first, second, third] = turn as [UIMessageChunk[], UIMessageChunk[], UIMessageChunk[]];
    // A save runs a little after its step end: by then the next step has begun.
    for (const chunk of [...first, ...second.slice(0, 3)]) assembler.add(chunk);
    expect(structuredClone(await assembler.read())).toEqual(await clientView(first));
    for (const chunk of [...second.slice(3), ...third]) assembler.add(chunk);
    expect(structuredClone(await assembler.read())).toEqual(await clientView([...first, ...second]));
    expect(structuredClone(await assembler.read('all'))).toEqual(await clientView(turn.flat()));
  });

  it('carries on a stored message, as a turn resumed after an approval does', async () => {
    const stored = (await clientView(turn.slice(0, 2).flat()))!;
    const answered = structuredClone(stored);
    Object.assign(answered.parts.find((p) => 'toolCallId' in p && p.toolCallId === 'c3')!, { state: 'approval-responded', approval: { id: 'approval_1', approved: true } });
    const resumed: UIMessageChunk[] = [
      { type: 'start', messageId: stored.id },
      { type: 'tool-output-available', toolCallId: 'c3', output: { status: 'deployed' } },
      { type: 'start-step' },
      { type: 'text-start', id: 't2' },
      { type: 'text-delta', id: 't2', delta: 'Deployed.' },
      { type: 'text-end', id: 't2' },
      { type: 'finish-step' },
      { type: 'finish' },
    ];
    const assembler = new MessageAssembler(structuredClone(answered));
    for (const chunk of resumed) assembler.add(chunk);
    const message = await assembler.read('all');
    expect(message).toEqual(await clientView(resumed, structuredClone(answered)));
    expect(message!.id).toBe(stored.id);
    expect(message!.parts.find((p) => 'toolCallId' in p && p.toolCallId === 'c3')).toMatchObject({ state: 'output-available', output: { status: 'deployed' } });
    expect(message!.parts.at(-1)).toMatchObject({ type: 'text', text: 'Deployed.' });
  });
});
