import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../mcp-server/create-server.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { createLogger } from '../../src/logger.ts';
import { PipelineRepo } from '../../src/pipelines/pipeline-repo.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { scriptedModel, sendTurn, toolParts, user } from '../chat/helpers.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// A version stored before today's rules (here: written straight into the store, as an older
// service would have stored it) stays readable, but compiling and deploying it are refused with
// the new issues and their paths, the same way over REST, MCP and chat.

/** The flagship pipeline with a block named "output" and a cron Dagster refuses: both validated once. */
function oldSpec(): PipelineSpec {
  const spec = flagshipSpec();
  spec.name = 'stored before the rules';
  spec.blocks[1]!.id = 'output';
  spec.edges[0]!.to.block = 'output';
  spec.schedules[0]!.cron = '0 0 * * 5L';
  return spec;
}
const ISSUES = ['invalid_id /blocks/1/id', 'invalid_cron /schedules/0/cron'];
const where = (issues: Array<{ code?: string; path: string }>) => issues.map((i) => `${i.code} ${i.path}`);

describe('a version stored before the validation rules', () => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let id: string;
  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] })], llm: scriptedModel(llm) });
    const row = await new PipelineRepo(t.services.db).create(LOCAL_PRINCIPAL, oldSpec(), { kind: 'spec' });
    id = row!.id;
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  it('stays readable', async () => {
    const res = await t.call('GET', `/v1/pipelines/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.spec.blocks[1].id).toBe('output');
  });

  it('is refused by compile and by both deploy routes with every new issue, and nothing is deployed', async () => {
    for (const [method, path, body] of [
      ['POST', `/v1/pipelines/${id}/compile`, undefined],
      ['POST', `/v1/pipelines/${id}/deployments`, { environment: 'development' }],
      ['POST', `/dagster/pipelines/${id}/deploy/`, { environment: 'development' }],
    ] as const) {
      const res = await t.call(method, path, body);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.code).toBe('invalid:pipeline');
      expect(res.body.error.message).toContain('cannot be compiled or deployed');
      expect(where(res.body.error.issues)).toEqual(ISSUES);
      expect(res.body.error.issues[0].hint).toBe('Try "output_table".');
    }
    expect((await t.call('GET', `/v1/pipelines/${id}/deployments`)).body.deployments).toEqual([]);
  });

  it('is refused the same way by the MCP tools', async () => {
    const server = createMcpServer({ domain: t.services.domain, logger: createLogger('silent'), approvals: t.services.approvals, readOnly: false }, LOCAL_PRINCIPAL);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'stored-before-rules', version: '1.0.0' });
    await client.connect(clientSide);
    try {
      for (const [name, args] of [
        ['compile_pipeline', { pipeline_id: id }],
        ['deploy_pipeline', { pipeline_id: id, environment: 'development', dry_run: false }],
      ] as const) {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        expect(result.isError, name).toBe(true);
        const text = (result.content as Array<{ text: string }>)[0]!.text;
        expect(text).toMatch(/^Error invalid:pipeline: Version 1 of this pipeline breaks 2 validation rules/);
        for (const path of ['/blocks/1/id', '/schedules/0/cron']) expect(text).toContain(path);
      }
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('is refused the same way when the chat model compiles it', async () => {
    llm.script([{ toolCalls: [{ name: 'compile_pipeline', arguments: JSON.stringify({ pipeline_id: id }), id: 'call_compile' }] }, { text: 'It needs fixing first.' }]);
    const turn = await sendTurn(t, 'stored-before-rules', [user('u1', `compile ${id}`)]);
    const [part] = toolParts(turn.message);
    expect(part).toMatchObject({ type: 'tool-compile_pipeline', state: 'output-error' });
    expect(part!.errorText).toMatch(/^Error invalid:pipeline: /);
    expect(part!.errorText).toContain('/blocks/1/id');
  });

  it('compiles once an edit fixes it, while the old version stays refused', async () => {
    const patch = [
      { op: 'replace', path: '/blocks/1/id', value: 'output_table' },
      { op: 'replace', path: '/edges/0/to/block', value: 'output_table' },
      { op: 'replace', path: '/schedules/0/cron', value: '0 0 * * 5' },
    ];
    expect((await t.call('PATCH', `/v1/pipelines/${id}`, patch)).status).toBe(200);
    expect((await t.call('POST', `/v1/pipelines/${id}/compile`)).status).toBe(200);
    expect((await t.call('POST', `/v1/pipelines/${id}/compile?version=1`)).status).toBe(400);
    expect((await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'development' })).status).toBe(202);
  });
});
