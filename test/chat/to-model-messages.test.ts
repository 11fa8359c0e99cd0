import type { UIMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { toModelMessages } from '../../src/agent/to-model-messages.ts';

const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });
const assistant = (id: string, parts: unknown[]): UIMessage => ({ id, role: 'assistant', parts: parts as UIMessage['parts'] });

/** Every assistant tool call is followed, before anything else, by exactly one tool message per call. */
function expectEveryCallAnswered(messages: ReturnType<typeof toModelMessages>) {
  messages.forEach((m, i) => {
    if (m.role !== 'assistant' || !('tool_calls' in m) || !m.tool_calls) return;
    const answers = messages.slice(i + 1, i + 1 + m.tool_calls.length);
    expect(answers.map((a) => a.role)).toEqual(m.tool_calls.map(() => 'tool'));
    expect(answers.map((a) => (a as { tool_call_id: string }).tool_call_id)).toEqual(m.tool_calls.map((c) => c.id));
  });
}

describe('toModelMessages', () => {
  it('keeps user text and joins a message\'s text parts', () => {
    expect(toModelMessages([{ id: 'u', role: 'user', parts: [{ type: 'text', text: 'a' }, { type: 'file', mediaType: 'image/png', url: 'data:,' }, { type: 'text', text: 'b' }] } as UIMessage])).toEqual([
      { role: 'user', content: 'a\nb' },
    ]);
  });

  it('splits an assistant message into one assistant message per step, each call answered', () => {
    const messages = toModelMessages([
      user('u1', 'find a postgres block'),
      assistant('a1', [
        { type: 'step-start' },
        { type: 'text', text: 'Searching.', state: 'done' },
        { type: 'tool-search_block_types', toolCallId: 'c1', state: 'output-available', input: { query: 'postgres' }, output: { results: [] } },
        { type: 'step-start' },
        { type: 'tool-get_block_type', toolCallId: 'c2', state: 'output-available', input: { ref: 'x@1' }, output: 'as text' },
        { type: 'step-start' },
        { type: 'text', text: 'Done', state: 'done' },
        { type: 'text', text: ' here.', state: 'done' },
      ]),
    ]);
    expect(messages).toEqual([
      { role: 'user', content: 'find a postgres block' },
      { role: 'assistant', content: 'Searching.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search_block_types', arguments: '{"query":"postgres"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '{"results":[]}' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'get_block_type', arguments: '{"ref":"x@1"}' } }] },
      { role: 'tool', tool_call_id: 'c2', content: 'as text' },
      { role: 'assistant', content: 'Done here.' },
    ]);
    expectEveryCallAnswered(messages);
  });

  it('answers a step with several calls with one tool message each, in order', () => {
    const messages = toModelMessages([
      assistant('a', [
        { type: 'step-start' },
        { type: 'tool-list_pipelines', toolCallId: 'p1', state: 'output-available', input: {}, output: { pipelines: [] } },
        { type: 'dynamic-tool', toolName: 'list_environments', toolCallId: 'p2', state: 'output-error', input: {}, errorText: 'nope' },
      ]),
    ]);
    expect(messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'tool']);
    expect((messages[0] as any).tool_calls.map((c: any) => c.function.name)).toEqual(['list_pipelines', 'list_environments']);
    expectEveryCallAnswered(messages);
  });

  it('tells the model what an errored call said', () => {
    const [, tool] = toModelMessages([
      assistant('a', [{ type: 'step-start' }, { type: 'tool-get_pipeline', toolCallId: 'e', state: 'output-error', input: { pipeline_id: 'x' }, errorText: 'Error not_found:pipeline: No pipeline' }]),
    ]);
    expect(tool).toEqual({ role: 'tool', tool_call_id: 'e', content: 'Error not_found:pipeline: No pipeline' });
  });

  it('tells the model the arguments were rejected for a call whose input never parsed', () => {
    const [call, tool] = toModelMessages([
      assistant('a', [{ type: 'step-start' }, { type: 'tool-get_pipeline', toolCallId: 'm', state: 'output-error', input: 'not json', errorText: 'The arguments for get_pipeline are not valid JSON' }]),
    ]);
    expect((call as any).tool_calls[0].function.arguments).toBe('"not json"');
    expect(tool).toMatchObject({ role: 'tool', tool_call_id: 'm', content: expect.stringContaining('not valid JSON') });
  });

  it('tells the model a denied call was denied and not to retry it', () => {
    const [, tool] = toModelMessages([
      assistant('a', [{ type: 'step-start' }, { type: 'tool-deploy_pipeline', toolCallId: 'd', state: 'output-denied', input: { pipeline_id: 'p', environment: 'production', dry_run: false }, approval: { id: 'ap', approved: false } }]),
    ]);
    expect(tool).toMatchObject({ role: 'tool', tool_call_id: 'd' });
    expect((tool as any).content).toMatch(/denied/i);
    expect((tool as any).content).toMatch(/not retry/i);
  });

  it('passes on the user\'s reason for a denial', () => {
    const [, tool] = toModelMessages([
      assistant('a', [{ type: 'step-start' }, { type: 'tool-deploy_pipeline', toolCallId: 'd', state: 'output-denied', input: {}, approval: { id: 'ap', approved: false, reason: 'wait until "Monday"' } }]),
    ]);
    expect((tool as any).content).toMatch(/^The user denied this call \(their reason: "wait until \\"Monday\\""\)\. Do not retry/);
  });

  it('tells the model an approval that was never answered did not run', () => {
    for (const state of ['approval-requested', 'approval-responded', 'input-available', 'input-streaming']) {
      const [, tool] = toModelMessages([
        assistant('a', [{ type: 'step-start' }, { type: 'tool-deploy_pipeline', toolCallId: 'w', state, input: { pipeline_id: 'p', environment: 'production' }, approval: { id: 'ap' } }]),
        user('u2', 'never mind'),
      ]);
      expect(tool).toMatchObject({ role: 'tool', tool_call_id: 'w' });
      expect((tool as any).content).toMatch(/did not run/);
    }
  });

  it('gives no message for an empty step or an empty user message', () => {
    expect(toModelMessages([user('u', ''), assistant('a', [{ type: 'step-start' }, { type: 'step-start' }, { type: 'data-progress', data: {} }])])).toEqual([]);
  });

  it('keeps the conversation order across several turns', () => {
    const messages = toModelMessages([
      user('u1', 'one'),
      assistant('a1', [{ type: 'step-start' }, { type: 'text', text: 'first' }]),
      user('u2', 'two'),
      assistant('a2', [{ type: 'step-start' }, { type: 'tool-list_pipelines', toolCallId: 'l', state: 'output-available', input: {}, output: {} }, { type: 'step-start' }, { type: 'text', text: 'second' }]),
    ]);
    expect(messages.map((m) => `${m.role}:${typeof m.content === 'string' ? m.content : ''}`)).toEqual(['user:one', 'assistant:first', 'user:two', 'assistant:', 'tool:{}', 'assistant:second']);
    expectEveryCallAnswered(messages);
  });
});
