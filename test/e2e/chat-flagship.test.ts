import { createLlm } from '../../src/agent/llm.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_STATE, WORKSPACE_LOCATIONS } from '../../src/adapters/dagster/documents.ts';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { sendMessage, textOf, userMessage, type TurnResult } from '../../evals/harness.ts';
import { flagship } from '../../evals/scenarios/flagship.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { startPlatform, type Platform } from './platform.ts';

type ToolPart = { type: string; toolCallId: string; state: string; input?: any; output?: any; errorText?: string };

/**
 * Seed 003 by chat, end to end: one user message to POST /v1/chat, read with the AI SDK client; a
 * scripted model that decides each call from the previous tool result (the flagship eval policy:
 * search, read both block types, validate, propose, compile, deploy and wait, answer); a real
 * Postgres store, a real Dagster webserver and daemon. Then Dagster itself is asked what it runs.
 */
describe('chat builds and deploys the flagship pipeline on a real Dagster', () => {
  let platform: Platform;
  let llm: ScriptedLlm;
  let t: TestApp;
  let turn: TurnResult;
  let parts: ToolPart[];

  beforeAll(async () => {
    platform = await startPlatform({ customers: 3 });
    llm = await startScriptedLlm({ steps: flagship.policy() });
    t = await createTestApp('postgres', {
      environments: [platform.environment],
      llm: createLlm({ apiKey: 'test', baseURL: llm.baseUrl, model: 'scripted', maxRetries: 0 }),
    });
  });
  afterAll(async () => {
    await t?.close();
    await llm?.close();
    await platform?.stop();
  });

  it('runs the whole turn: every tool call ends output-available, in the order the model chose', async () => {
    turn = await sendMessage(t.app, 'flagship-chat', [userMessage('u1', flagship.messages[0]!)]);
    expect(turn.error, `${turn.error}\n${platform.dagster.logs()}`).toBeNull();
    parts = (turn.message?.parts ?? []).filter((p) => p.type.startsWith('tool-')) as unknown as ToolPart[];
    expect(parts.map((p) => p.type)).toEqual([
      'tool-search_block_types',
      'tool-get_block_type',
      'tool-get_block_type',
      'tool-validate_pipeline',
      'tool-propose_pipeline',
      'tool-compile_pipeline',
      'tool-deploy_pipeline',
    ]);
    for (const p of parts) expect(p.state, `${p.type}: ${p.errorText ?? ''}`).toBe('output-available');
    // The model was asked once per step and saw each result before its next call.
    expect(llm.requests).toHaveLength(8);
    expect(llm.requests.at(-1)!.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: parts.at(-1)!.toolCallId });
    expect(parts.map((p) => p.input?.ref).filter(Boolean)).toEqual(['postgres_incremental_extract@1', 'clickhouse_replacing_merge_tree_load@1']);
  });

  it('deploys for real: the deploy call ends "deployed", with progress streamed while it waited', async () => {
    const deploy = parts.find((p) => p.type === 'tool-deploy_pipeline')!;
    expect(deploy.input).toMatchObject({ dry_run: false, wait: true, environment: 'development' });
    expect(deploy.output, platform.dagster.logs()).toMatchObject({ dry_run: false, status: 'deployed', version: 1, error: null });
    const progress = turn.chunks.filter((c) => c.type === 'data-progress') as Array<{ id: string; data: { done: number; total: number; message: string } }>;
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(new Set(progress.map((p) => p.id))).toEqual(new Set([deploy.toolCallId]));
    expect(progress.at(-1)!.data).toEqual({ done: 2, total: 2, message: 'Deployment deployed' });

    const pipelineId = parts.find((p) => p.type === 'tool-propose_pipeline')!.output.pipeline_id;
    const row = await t.services.deploymentRepo.get(LOCAL_PRINCIPAL, deploy.output.deployment_id);
    expect(row).toMatchObject({ pipeline_id: pipelineId, status: 'deployed', version: 1 });
    expect(textOf(turn.message)).toContain('it is deployed and Dagster has loaded it');
  });

  it('is loaded in Dagster, with its schedule RUNNING every 6 hours', async () => {
    const pipelineId = parts.find((p) => p.type === 'tool-propose_pipeline')!.output.pipeline_id;
    const [deployment] = (await t.call('GET', `/v1/pipelines/${pipelineId}/deployments`)).body.deployments;
    const gql = new DagsterGraphqlClient(platform.dagster.graphqlUrl);
    const workspace = await gql.request(WORKSPACE_LOCATIONS);
    expect(workspace.workspaceOrError.__typename).toBe('Workspace');
    const entry = workspace.workspaceOrError.locationEntries.find((e: { name: string }) => e.name === deployment.location_name);
    expect(entry?.locationOrLoadError, JSON.stringify(workspace)).toMatchObject({ __typename: 'RepositoryLocation', name: deployment.location_name });

    // In a shard, a schedule has the name compile gave it (its pipeline's slug before the spec id).
    const scheduleName = JSON.parse((await t.services.compiler.compile(LOCAL_PRINCIPAL, pipelineId)).files['pipeline.json']!).schedules.every_6_hours.name;
    const schedule = await gql.request(SCHEDULE_STATE, { selector: { repositoryLocationName: deployment.location_name, repositoryName: '__repository__', scheduleName } });
    expect(schedule.scheduleOrError).toMatchObject({ __typename: 'Schedule', cronSchedule: '0 */6 * * *', executionTimezone: 'UTC', scheduleState: { status: 'RUNNING' } });
  });

  it('stores the conversation with every tool result', async () => {
    const stored = await t.call('GET', '/v1/chats/flagship-chat');
    expect(stored.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    const storedTools = stored.body.messages[1].parts.filter((p: ToolPart) => p.type.startsWith('tool-'));
    expect(storedTools.map((p: ToolPart) => p.state)).toEqual(parts.map(() => 'output-available'));
  });
});
