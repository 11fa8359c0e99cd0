import type { UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INTERNAL_MESSAGE } from '../../src/errors.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';
import { scriptedModel, sendTurn, textOf, toolMessages, toolParts, until, user } from './helpers.ts';

describe('chat approvals for a production deploy', () => {
  let llm: ScriptedLlm;
  let t: TestApp;
  let pipelineId: string;
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', {
      llm: scriptedModel(llm),
      environments: [writeOnlyEnvironment('production', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'], policy: { approval_required_for_model_deploys: true, allow_destructive: false } })],
    });
    const created = await t.call('POST', '/v1/pipelines', flagshipSpec());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pipelineId = created.body.id;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t.close();
    await llm.close();
  });

  const deployments = async () => (await t.call('GET', `/v1/pipelines/${pipelineId}/deployments`)).body.deployments as Array<{ id: string; status: string; environment: string }>;
  const deployArgs = () => JSON.stringify({ pipeline_id: pipelineId, environment: 'production', dry_run: false });

  /** A turn in which the model asks to deploy: it ends waiting for the user's answer. */
  async function askToDeploy(chatId: string) {
    const first = user(`${chatId}-u1`, 'deploy it to production');
    const before = llm.requests.length;
    llm.script([{ toolCalls: [{ name: 'deploy_pipeline', arguments: deployArgs(), id: `call_deploy_${chatId}` }], text: 'Deploying now.' }]);
    const turn = await sendTurn(t, chatId, [first]);
    expect(turn.error).toBeUndefined();
    expect(llm.requests.length - before).toBe(1);
    const assistant = turn.message!;
    return { first, assistant, turn };
  }

  /** The message useChat sends after addToolApprovalResponse. */
  const answer = (assistant: UIMessage, response: { approved: boolean; reason?: string; id?: string; toolCallId?: string }): UIMessage => ({
    ...assistant,
    parts: assistant.parts.map((p: any) =>
      p.state === 'approval-requested'
        ? { ...p, ...(response.toolCallId ? { toolCallId: response.toolCallId } : {}), state: 'approval-responded', approval: { id: response.id ?? p.approval.id, approved: response.approved, ...(response.reason ? { reason: response.reason } : {}) } }
        : p,
    ) as UIMessage['parts'],
  });

  it('asks for approval with a preview, and ends the turn without deploying', async () => {
    const { assistant, turn } = await askToDeploy('ask');
    const [part] = toolParts(assistant);
    expect(part).toMatchObject({ type: 'tool-deploy_pipeline', toolCallId: 'call_deploy_ask', state: 'approval-requested', input: { pipeline_id: pipelineId, environment: 'production', dry_run: false } });
    expect(part!.approval.id).toMatch(/^apr_/);
    expect(turn.chunks).toContainEqual({ type: 'tool-approval-request', approvalId: part!.approval.id, toolCallId: 'call_deploy_ask' });
    const preview = assistant.parts.find((p) => p.type === 'data-deploy-preview') as any;
    expect(preview).toMatchObject({ id: 'call_deploy_ask', data: { environment: 'production', version: 1, live_version: null, missing_secrets: [], approval_required_for_model_deploys: true } });
    expect(Object.keys(preview.data.changes).length).toBeGreaterThan(0);
    expect(textOf(assistant)).toBe('Deploying now.');
    expect(turn.chunks.at(-1)?.type).toBe('finish');
    // The confirmation token stays on the server: neither the client nor the model sees one.
    expect(JSON.stringify(turn.chunks)).not.toMatch(/confirmation_token|Needs confirmation/);
    expect(await deployments()).toEqual([]);
    const stored = (await t.call('GET', '/v1/chats/ask')).body.messages as UIMessage[];
    expect(toolParts(stored[1])[0]).toMatchObject({ state: 'approval-requested', approval: { id: part!.approval.id } });
    expect((await t.app.request('/v1/chat/ask/stream')).status).toBe(204);
  });

  it('deploys when the user approves, and the model carries on with the result', async () => {
    const { first, assistant } = await askToDeploy('granted');
    const approvalId = (toolParts(assistant)[0] as any).approval.id;
    const before = llm.requests.length;
    llm.script([(req) => ({ text: `Deployment ${JSON.parse(toolMessages(req).at(-1)!.content.replace(/^[^{]*/, '').replace(/[^}]*$/, '')).status}.` })]);
    const approved = answer(assistant, { approved: true });
    const turn = await sendTurn(t, 'granted', [first, approved], approved);
    expect(turn.error).toBeUndefined();

    const output = turn.chunks.find((c) => c.type === 'tool-output-available') as any;
    expect(output).toMatchObject({ toolCallId: 'call_deploy_granted', output: { dry_run: false, environment: 'production', version: 1, status: 'pending', deployment_id: expect.any(String) } });
    const made = await deployments();
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ id: output.output.deployment_id, environment: 'production' });

    // The same assistant message continues: the call now has its output, then the model's answer.
    expect(turn.message!.id).toBe(assistant.id);
    const [part] = toolParts(turn.message);
    expect(part).toMatchObject({ toolCallId: 'call_deploy_granted', state: 'output-available', output: { status: 'pending', deployment_id: output.output.deployment_id } });
    expect(textOf(turn.message)).toBe('Deploying now.Deployment pending.');

    // The model saw its call answered by the deploy's result, one request for the one step.
    expect(llm.requests.length - before).toBe(1);
    const request = llm.requests.at(-1)!;
    expect(request.messages.find((m) => m.role === 'assistant' && m.tool_calls)?.tool_calls[0]).toMatchObject({ id: 'call_deploy_granted', function: { name: 'deploy_pipeline' } });
    expect(toolMessages(request)).toHaveLength(1);
    expect(toolMessages(request)[0]).toMatchObject({ tool_call_id: 'call_deploy_granted', content: expect.stringContaining(output.output.deployment_id) });

    const stored = (await t.call('GET', '/v1/chats/granted')).body.messages as UIMessage[];
    expect(stored.map((m) => m.id)).toEqual([first.id, assistant.id]);
    expect(toolParts(stored[1])[0]).toMatchObject({ state: 'output-available', output: { deployment_id: output.output.deployment_id } });
    expect(textOf(stored[1])).toBe('Deploying now.Deployment pending.');
    // The store holds what the client shows, the user's answer included.
    expect(JSON.parse(JSON.stringify(stored[1]))).toEqual(JSON.parse(JSON.stringify(turn.message)));
    expect(toolParts(stored[1])[0]!.approval).toEqual({ id: approvalId, approved: true });

    // The same approval again is refused and runs nothing.
    const again = await t.call('POST', '/v1/chat', { id: 'granted', messages: [first, approved], trigger: 'submit-message', messageId: assistant.id });
    expect(again.status).toBe(403);
    expect(again.body.error.code).toBe('forbidden:approval');
    expect(again.body.error.message).toContain(approvalId);
    expect(await deployments()).toHaveLength(1);
    expect(llm.requests.length - before).toBe(1);
  });

  it('does not deploy when the user denies, and tells the model', async () => {
    const { first, assistant } = await askToDeploy('denied');
    const before = llm.requests.length;
    const deploymentsBefore = (await deployments()).length;
    llm.script([(req) => ({ text: `Understood: ${/denied/.test(toolMessages(req).at(-1)?.content ?? '') ? 'not deployed' : 'confused'}.` })]);
    const denied = answer(assistant, { approved: false, reason: 'not on a Friday' });
    const turn = await sendTurn(t, 'denied', [first, denied], denied);
    expect(turn.error).toBeUndefined();
    expect(turn.chunks).toContainEqual({ type: 'tool-output-denied', toolCallId: 'call_deploy_denied' });
    expect(turn.chunks.some((c) => c.type === 'tool-output-available' || c.type === 'tool-output-error')).toBe(false);
    expect(toolParts(turn.message)[0]).toMatchObject({ state: 'output-denied' });
    expect(textOf(turn.message)).toBe('Deploying now.Understood: not deployed.');
    expect(await deployments()).toHaveLength(deploymentsBefore);

    expect(llm.requests.length - before).toBe(1);
    const told = toolMessages(llm.requests.at(-1)!);
    expect(told).toHaveLength(1);
    expect(told[0]!.tool_call_id).toBe('call_deploy_denied');
    expect(told[0]!.content).toMatch(/user denied/);
    expect(told[0]!.content).toContain('not on a Friday');

    const stored = (await t.call('GET', '/v1/chats/denied')).body.messages as UIMessage[];
    expect(toolParts(stored[1])[0]).toMatchObject({ state: 'output-denied', approval: { approved: false, reason: 'not on a Friday' } });

    // Replayed later, the stored turn still tells the model the call was denied.
    llm.script([{ text: 'ok' }]);
    await sendTurn(t, 'denied', [...stored, user('denied-u2', 'what now?')]);
    expect(toolMessages(llm.requests.at(-1)!)[0]!.content).toMatch(/user denied.*not on a Friday/s);
  });

  it('refuses a forged approval id with 403 and runs nothing; the real one still works', async () => {
    const { first, assistant } = await askToDeploy('forged');
    const before = llm.requests.length;
    const deploymentsBefore = (await deployments()).length;
    for (const forged of [answer(assistant, { approved: true, id: 'approval_00000000-0000-4000-8000-000000000000' }), answer(assistant, { approved: true, toolCallId: 'call_somewhere_else' })]) {
      const res = await t.call('POST', '/v1/chat', { id: 'forged', messages: [first, forged], trigger: 'submit-message', messageId: assistant.id });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden:approval');
    }
    expect(llm.requests.length).toBe(before);
    expect(await deployments()).toHaveLength(deploymentsBefore);
    expect((await t.app.request('/v1/chat/forged/stream')).status).toBe(204);

    // The forgeries did not use up the real approval.
    llm.script([{ text: 'Deployed.' }]);
    const approved = answer(assistant, { approved: true });
    const turn = await sendTurn(t, 'forged', [first, approved], approved);
    expect(turn.error).toBeUndefined();
    expect(toolParts(turn.message)[0]).toMatchObject({ state: 'output-available', output: { status: 'pending' } });
    expect(await deployments()).toHaveLength(deploymentsBefore + 1);
  });

  it('refuses an approval issued in another chat', async () => {
    const a = await askToDeploy('chat-a');
    const b = await askToDeploy('chat-b');
    const aId = (toolParts(a.assistant)[0] as any).approval.id;
    const deploymentsBefore = (await deployments()).length;
    const crossed = answer(b.assistant, { approved: true, id: aId, toolCallId: 'call_deploy_chat-a' });
    const res = await t.call('POST', '/v1/chat', { id: 'chat-b', messages: [b.first, crossed], trigger: 'submit-message', messageId: b.assistant.id });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden:approval');
    expect(await deployments()).toHaveLength(deploymentsBefore);
  });

  it('tells the model an approval never came when the user moves on, and refuses it afterwards', async () => {
    const { first, assistant } = await askToDeploy('moved-on');
    llm.script([{ text: 'Fine, I will not deploy.' }]);
    const second = user('moved-on-u2', 'actually, leave it');
    const next = await sendTurn(t, 'moved-on', [first, assistant, second]);
    expect(next.error).toBeUndefined();
    const told = toolMessages(llm.requests.at(-1)!);
    expect(told).toEqual([{ role: 'tool', tool_call_id: 'call_deploy_moved-on', content: expect.stringMatching(/did not run/) }]);

    // Answering the old approval now would deploy behind the conversation's back.
    const deploymentsBefore = (await deployments()).length;
    const requestsBefore = llm.requests.length;
    const late = answer(assistant, { approved: true });
    const res = await t.call('POST', '/v1/chat', { id: 'moved-on', messages: [first, late], trigger: 'submit-message', messageId: assistant.id });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden:approval');
    expect(await deployments()).toHaveLength(deploymentsBefore);
    expect(llm.requests.length).toBe(requestsBefore);
  });

  it('refuses an answer to an approval that expired, and runs nothing', async () => {
    const { first, assistant } = await askToDeploy('expired');
    const deploymentsBefore = (await deployments()).length;
    // As after the request's hour.
    await t.db.query(`UPDATE approval_requests SET expires_at = now() - interval '1 second' WHERE status = 'pending'`);
    const approved = answer(assistant, { approved: true });
    const res = await t.call('POST', '/v1/chat', { id: 'expired', messages: [first, approved], trigger: 'submit-message', messageId: assistant.id });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict:approval', message: expect.stringMatching(/has expired; nothing was changed/) });
    expect(await deployments()).toHaveLength(deploymentsBefore);
  });

  it('reports a failure inside the turn with a safe message', async () => {
    vi.spyOn(t.services.chatRepo, 'createApproval').mockRejectedValueOnce(new Error('duplicate key value violates unique constraint "chat_approvals_pkey" SECRET-ROW'));
    llm.script([{ toolCalls: [{ name: 'deploy_pipeline', arguments: deployArgs() }] }]);
    const turn = await sendTurn(t, 'broken', [user('broken-u1', 'deploy')]);
    const errors = turn.chunks.filter((c) => c.type === 'error') as Array<{ errorText: string }>;
    expect(errors).toEqual([{ type: 'error', errorText: INTERNAL_MESSAGE }]);
    expect((turn.error as Error).message).toBe(errors[0]!.errorText);
    expect(JSON.stringify(turn.chunks)).not.toContain('SECRET-ROW');
    const stored = (await t.call('GET', '/v1/chats/broken')).body.messages as UIMessage[];
    expect(stored[0]).toEqual(user('broken-u1', 'deploy'));
    expect(JSON.stringify(stored)).not.toContain('SECRET-ROW');
    // The client stopped reading at the error; the turn ends once its message is stored.
    await until(async () => (await t.app.request('/v1/chat/broken/stream')).status === 204, 'the failed turn to end');
  });
});
