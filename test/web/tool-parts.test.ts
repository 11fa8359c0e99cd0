import { describe, expect, it } from 'vitest';
import { deployPreviewFor, latestPipeline, outputSummary, progressOf, stateLabel, toolName, isToolPart } from '../../web/chat/tool-parts.ts';

const spec = { blocks: [{ id: 'a', type: 'x@1' }, { id: 'b', type: 'y@1' }], edges: [{ from: { block: 'a', port: 'out' }, to: { block: 'b', port: 'in' } }] };
const assistant = (...parts: Array<Record<string, unknown>>) => ({ role: 'assistant', parts: parts as Array<{ type: string }> });

describe('tool parts as the chat shows them', () => {
  it('names static and dynamic tool parts, and only those', () => {
    expect(toolName({ type: 'tool-deploy_pipeline', toolCallId: 'c', state: 'input-available' })).toBe('deploy_pipeline');
    expect(toolName({ type: 'dynamic-tool', toolName: 'other', toolCallId: 'c', state: 'input-available' })).toBe('other');
    expect(isToolPart({ type: 'tool-x', toolCallId: 'c' })).toBe(true);
    expect(isToolPart({ type: 'text', text: 'tool-x' })).toBe(false);
    expect(isToolPart({ type: 'data-deploy-preview', id: 'c' })).toBe(false);
  });

  it('labels every state a call passes through, and shows an unknown one as it is', () => {
    const states = ['input-streaming', 'input-available', 'approval-requested', 'output-available', 'output-error'];
    const labels = states.map(stateLabel);
    expect(new Set(labels).size).toBe(states.length);
    expect(stateLabel('approval-requested')).toMatch(/approval/);
    expect(stateLabel('output-error')).toBe('failed');
    expect(stateLabel('some-new-state')).toBe('some-new-state');
  });

  it('sums up a result by what the tool returns', () => {
    expect(outputSummary('deploy_pipeline', { status: 'deployed', environment: 'development' })).toBe('status: deployed (development)');
    expect(outputSummary('propose_pipeline', { name: 'Customers', version: 2 })).toBe('Customers, version 2');
    expect(outputSummary('validate_pipeline', { valid: false, errors: [{}, {}] })).toBe('2 problem(s)');
    expect(outputSummary('get_block_type', 'text')).toBeNull();
  });

  it('finds the pipeline being built: a proposal as it streams, then its saved id, then the latest edit', () => {
    const proposing = assistant({ type: 'tool-propose_pipeline', toolCallId: 'p1', state: 'input-available', input: { spec: JSON.stringify(spec) } });
    expect(latestPipeline([proposing])).toEqual({ pipelineId: null, spec, key: 'p1:input-available' });

    const saved = assistant({ type: 'tool-propose_pipeline', toolCallId: 'p1', state: 'output-available', input: { spec }, output: { pipeline_id: 'pid', spec } });
    expect(latestPipeline([saved])).toMatchObject({ pipelineId: 'pid', spec, key: 'p1:output-available' });

    const edited = { ...spec, blocks: [...spec.blocks, { id: 'c', type: 'z@1' }] };
    const editing = assistant({ type: 'tool-edit_pipeline', toolCallId: 'e1', state: 'input-available', input: { pipeline_id: 'pid', patch: [] } });
    // An edit in flight names its pipeline; its spec is known once saved.
    expect(latestPipeline([saved, editing])).toEqual({ pipelineId: 'pid', spec: null, key: 'e1:input-available' });
    const done = assistant({ type: 'tool-edit_pipeline', toolCallId: 'e1', state: 'output-available', input: { pipeline_id: 'pid', patch: [] }, output: { pipeline_id: 'pid', spec: edited } });
    expect(latestPipeline([saved, done])!.spec!.blocks).toHaveLength(3);

    // A failed edit leaves the last good one in place; a chat with none has none.
    const failed = assistant({ type: 'tool-edit_pipeline', toolCallId: 'e2', state: 'output-error', input: { pipeline_id: 'pid' }, errorText: 'bad' });
    expect(latestPipeline([saved, done, failed])!.key).toBe('e1:output-available');
    expect(latestPipeline([assistant({ type: 'text', text: 'hi' })])).toBeNull();
  });

  it('pairs a deploy preview with its call, and reads progress parts', () => {
    const message = assistant({ type: 'tool-deploy_pipeline', toolCallId: 'd1', state: 'approval-requested' }, { type: 'data-deploy-preview', id: 'd1', data: { environment: 'production', version: 1 } });
    expect(deployPreviewFor(message, 'd1')).toEqual({ environment: 'production', version: 1 });
    expect(deployPreviewFor(message, 'other')).toBeNull();
    expect(progressOf({ type: 'data-progress', id: 'd1', data: { done: 1, total: 2, message: 'Loading' } })).toEqual({ id: 'd1', progress: { done: 1, total: 2, message: 'Loading' } });
    expect(progressOf({ type: 'data-pipeline', id: 'd1', data: {} })).toBeNull();
  });
});
