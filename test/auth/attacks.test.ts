import type { UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.ts';
import { approveCli } from '../../src/cli/approve.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { scriptedModel, toolParts, user } from '../chat/helpers.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { mcpClient, mcpToolError, mcpToolResult } from '../support/surfaces.ts';
import { as, createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

const SECRETS = ['SOURCE_DB_URL', 'WAREHOUSE_URL'];
const APPROVAL_ID = /apr_[A-Za-z0-9_-]{16,}/;

/**
 * The attacks of issue 15, each as an attacker would try it: nothing a model can read (a result's
 * text, an approval id, a stored chat approval) lets it deploy to production without a person.
 */
describe('attacks on approvals', () => {
  let llm: ScriptedLlm;
  let t: TestApp;
  let person: { key: string; orgId: string; userId: string };
  let agent: { key: string; orgId: string; userId: string };
  let editor: { key: string };
  let stranger: { key: string };
  let pipelineId: string;
  let asPerson: Principal;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', {
      authMode: 'required',
      llm: scriptedModel(llm),
      environments: [
        writeOnlyEnvironment('development', { secrets: SECRETS }),
        writeOnlyEnvironment('production', { secrets: SECRETS, policy: { approval_required_for_model_deploys: true, allow_destructive: false } }),
        writeOnlyEnvironment('vault', { secrets: SECRETS, policy: { approval_required_for_model_deploys: false, allow_destructive: true, deploy_roles: ['admin'] } }),
      ],
    });
    person = await t.issueKey({ org: 'acme', user: 'alice', role: 'deployer', kind: 'person' });
    // The same user's assistant, with a key of its own in its config.
    agent = await t.issueKey({ org: 'acme', user: 'alice', role: 'deployer', kind: 'agent' });
    editor = await t.issueKey({ org: 'acme', user: 'ed', role: 'editor', kind: 'person' });
    stranger = await t.issueKey({ org: 'other', user: 'mallory', role: 'admin', kind: 'person' });
    asPerson = { orgId: person.orgId, userId: person.userId, role: 'deployer', kind: 'person' };
    const created = await t.call('POST', '/v1/pipelines', flagshipSpec(), as(person.key));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pipelineId = created.body.id;
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  const productionDeploys = async () => (await t.db.query(`SELECT id FROM deployments WHERE environment = 'production'`)).length;
  const deployArgs = () => ({ pipeline_id: pipelineId, environment: 'production', dry_run: false });
  const approve = (id: string, key: string, verb: 'approve' | 'deny' = 'approve') => t.call('POST', `/v1/approvals/${id}/${verb}`, {}, as(key));

  describe('a model cannot approve itself over MCP', () => {
    it('repeating the call with anything from the answer does not deploy; a person\'s approval does, once', async () => {
      const mcp = await mcpClient(t, asPerson);
      try {
        const refused = await mcpToolError(mcp.client, 'deploy_pipeline', deployArgs());
        expect(refused.code).toBe('forbidden:approval_required');
        const id = APPROVAL_ID.exec(refused.text)![0];
        expect(refused.hint).toContain(`npm run approve -- ${id}`);
        // Every way of handing back what it read: as a token, as an id, in another field.
        for (const extra of [{ confirmation_token: id }, { approval_id: id }, {}]) {
          const again = await mcpToolError(mcp.client, 'deploy_pipeline', { ...deployArgs(), ...extra });
          expect(again.code).toBe('forbidden:approval_required');
        }
        // The model's credential (an agent's key) cannot approve either.
        const byAgent = await approve(id, agent.key);
        expect(byAgent.status).toBe(403);
        expect(byAgent.body.error).toMatchObject({ code: 'forbidden:not_a_person', message: expect.stringContaining("agent's") });
        expect(await productionDeploys()).toBe(0);

        // A person approves; the same call goes through once.
        expect((await approve(id, person.key)).status).toBe(200);
        expect(await mcpToolResult(mcp.client, 'deploy_pipeline', deployArgs())).toMatchObject({ dry_run: false, environment: 'production', status: 'pending' });
        expect(await productionDeploys()).toBe(1);
        expect((await mcpToolError(mcp.client, 'deploy_pipeline', deployArgs())).code).toBe('forbidden:approval_required');
        expect(await productionDeploys()).toBe(1);
      } finally {
        await mcp.close();
      }
    });

    it('an approval is for that exact call: other arguments or another tool do not use it', async () => {
      const mcp = await mcpClient(t, asPerson);
      try {
        const before = await productionDeploys();
        const id = APPROVAL_ID.exec((await mcpToolError(mcp.client, 'deploy_pipeline', deployArgs())).text)![0];
        expect((await approve(id, person.key)).status).toBe(200);
        expect((await mcpToolError(mcp.client, 'deploy_pipeline', { ...deployArgs(), version: 1 })).code).toBe('forbidden:approval_required');
        expect((await mcpToolError(mcp.client, 'delete_pipeline', { pipeline_id: pipelineId })).code).toBe('forbidden:approval_required');
        expect(await productionDeploys()).toBe(before);
        // Approving it twice is refused; the approval is still there for its own call.
        expect((await approve(id, person.key)).body.error.code).toBe('conflict:approval');
        await mcpToolResult(mcp.client, 'deploy_pipeline', deployArgs());
        expect(await productionDeploys()).toBe(before + 1);
      } finally {
        await mcp.close();
      }
    });
  });

  describe('the approval channel', () => {
    it('only a person of the org with the role the action needs answers; ids are stored hashed', async () => {
      const refused = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(agent.key));
      const id = APPROVAL_ID.exec(refused.body.error.message)![0];
      const listed = await t.call('GET', '/v1/approvals', undefined, as(person.key));
      expect(listed.status).toBe(200);
      expect(listed.body.approvals[0]).toMatchObject({ action: 'deploy', status: 'pending', summary: { environment: 'production', pipeline_id: pipelineId } });
      expect(JSON.stringify(listed.body)).not.toContain(id);
      expect(JSON.stringify(await t.db.query('SELECT * FROM approval_requests'))).not.toContain(id);
      expect((await t.call('GET', '/v1/approvals', undefined, as(stranger.key))).body.approvals).toEqual([]);

      const foreign = await approve(id, stranger.key);
      expect(foreign.status).toBe(404);
      expect(JSON.stringify(foreign.body)).not.toMatch(/production|deploy/);
      const underRole = await approve(id, editor.key);
      expect(underRole.status).toBe(403);
      expect(underRole.body.error).toMatchObject({ code: 'forbidden:role', message: expect.stringContaining('deployer') });
      expect((await approve(id, person.key, 'deny')).body).toMatchObject({ status: 'denied' });
      // A denied request lets nothing through.
      expect((await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(agent.key))).status).toBe(403);
    });

    it('npm run approve calls the running service as the person whose key it has', async () => {
      const refused = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(agent.key));
      const id = APPROVAL_ID.exec(refused.body.error.message)![0];
      const lines: string[] = [];
      const fetcher = ((url: string, init?: RequestInit) => t.app.request(url, init)) as typeof fetch;
      const env = (key: string) => ({ CONSTELLATION_URL: 'http://127.0.0.1:8000', CONSTELLATION_API_KEY: key });
      expect(await approveCli([id], env(agent.key), fetcher, (l) => lines.push(l))).toBe(1);
      expect(lines.at(-1)).toMatch(/^refused \(403\): Only a person/);
      expect(await approveCli(['--list'], env(person.key), fetcher, (l) => lines.push(l))).toBe(0);
      expect(lines.at(-1)).toMatch(/deploy/);
      expect(await approveCli([id], env(person.key), fetcher, (l) => lines.push(l))).toBe(0);
      expect(lines.at(-1)).toMatch(/^Approved: deploy/);
      const before = await productionDeploys();
      expect((await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(agent.key))).status).toBe(202);
      expect(await productionDeploys()).toBe(before + 1);
    });
  });

  describe("REST with an agent's key meets the model's rule", () => {
    it('a deploy to production is refused with an approval id, goes through once after a person approves', async () => {
      const before = await productionDeploys();
      for (const path of [`/v1/pipelines/${pipelineId}/deployments`, `/dagster/pipelines/${pipelineId}/deploy/`]) {
        const refused = await t.call('POST', path, { environment: 'production' }, as(agent.key));
        expect(refused.status).toBe(403);
        expect(refused.body.error).toMatchObject({ code: 'forbidden:approval_required', message: expect.stringMatching(APPROVAL_ID), hint: expect.stringContaining('npm run approve') });
      }
      expect(await productionDeploys()).toBe(before);
      const refused = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(agent.key));
      expect((await approve(APPROVAL_ID.exec(refused.body.error.message)![0], person.key)).status).toBe(200);
      expect((await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(agent.key))).status).toBe(202);
      expect((await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(agent.key))).status).toBe(403);
      expect(await productionDeploys()).toBe(before + 1);
    });

    it("a person's key needs only the role; the environment's deploy_roles decide which", async () => {
      const before = await productionDeploys();
      expect((await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'production' }, as(person.key))).status).toBe(202);
      expect(await productionDeploys()).toBe(before + 1);
      const vault = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'vault' }, as(person.key));
      expect(vault.status).toBe(403);
      expect(vault.body.error).toMatchObject({ code: 'forbidden:role', message: expect.stringContaining('admin') });
      const byEditor = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' }, as(editor.key));
      expect(byEditor.status).toBe(403);
      expect(byEditor.body.error.code).toBe('forbidden:role');
    });
  });

  describe('a chat approval keeps no token, and only a person answers it', () => {
    /** A chat POST as useChat sends it, with a key; resolves when the turn has streamed out. */
    const chatPost = async (key: string, body: Record<string, unknown>) => {
      const res = await t.app.request('/v1/chat', { method: 'POST', headers: { 'content-type': 'application/json', ...as(key) }, body: JSON.stringify({ trigger: 'submit-message', ...body }) });
      return { status: res.status, text: await res.text() };
    };
    const storedChat = async (id: string) => (await t.call('GET', `/v1/chats/${id}`, undefined, as(person.key))).body.messages as UIMessage[];
    const answered = (assistant: UIMessage, approved: boolean): UIMessage => ({
      ...assistant,
      parts: assistant.parts.map((p: any) => (p.state === 'approval-requested' ? { ...p, state: 'approval-responded', approval: { id: p.approval.id, approved } } : p)) as UIMessage['parts'],
    });

    async function askInChat(chatId: string) {
      const first = user(`${chatId}-u1`, 'deploy it to production');
      llm.script([{ toolCalls: [{ name: 'deploy_pipeline', arguments: JSON.stringify(deployArgs()), id: `call_${chatId}` }], text: 'Asking you first.' }]);
      expect((await chatPost(person.key, { id: chatId, messages: [first] })).status).toBe(200);
      const assistant = (await storedChat(chatId))[1]!;
      const approvalId = (toolParts(assistant)[0] as any).approval.id as string;
      return { first, assistant, approvalId };
    }

    it('stores neither a token nor the approval id, and a replay over MCP while it is pending does not deploy', async () => {
      const before = await productionDeploys();
      const { approvalId } = await askInChat('at-rest');
      expect(approvalId).toMatch(APPROVAL_ID);
      const rows = await t.db.query<Record<string, unknown>>('SELECT * FROM chat_approvals');
      expect(JSON.stringify(rows)).not.toMatch(/confirmation_token/);
      expect(JSON.stringify(rows)).not.toContain(approvalId);
      expect(rows.at(-1)).toMatchObject({ status: 'pending', input: deployArgs() });
      // Whatever a model (or someone reading the table) got hold of, replayed over MCP.
      const mcp = await mcpClient(t, asPerson);
      try {
        for (const extra of [{}, { confirmation_token: approvalId }, ...rows.map((r) => ({ confirmation_token: String(r.id) }))]) {
          expect((await mcpToolError(mcp.client, 'deploy_pipeline', { ...deployArgs(), ...extra })).code).toBe('forbidden:approval_required');
        }
      } finally {
        await mcp.close();
      }
      expect(await productionDeploys()).toBe(before);
    });

    it("refuses an approval answered with an agent's key; the person's yes in the chat deploys", async () => {
      const before = await productionDeploys();
      const { first, assistant } = await askInChat('answer');
      const byAgent = await chatPost(agent.key, { id: 'answer', messages: [first, answered(assistant, true)], messageId: assistant.id });
      expect(byAgent.status).toBe(403);
      expect(JSON.parse(byAgent.text).error.code).toBe('forbidden:not_a_person');
      expect(await productionDeploys()).toBe(before);
      // Nothing was settled: the person can still answer.
      llm.script([{ text: 'Deployed.' }]);
      expect((await chatPost(person.key, { id: 'answer', messages: [first, answered(assistant, true)], messageId: assistant.id })).status).toBe(200);
      expect(toolParts((await storedChat('answer'))[1])[0]).toMatchObject({ state: 'output-available', output: { environment: 'production', status: 'pending' } });
      expect(await productionDeploys()).toBe(before + 1);
    });
  });
});
