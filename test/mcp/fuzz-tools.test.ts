import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../mcp-server/create-server.ts';
import { createLogger } from '../../src/logger.ts';
import { TOOLS } from '../../tools/index.ts';
import { inputJsonSchema } from '../../tools/json-schema.ts';
import { fromSchema, materialise, mutated, type FuzzContext } from '../routes/fuzz-arbitraries.ts';
import { expectNoLeak, smallSpec, storeCounts } from '../routes/hostile.ts';
import { as, createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Every tool in tools/index.ts (a new tool joins by being listed there), called through the SDK's
// client over an in-memory transport with arguments shaped by its own input schema and by
// known-good examples, NULs, lone surrogates, huge integers, deep nesting, quotes and long strings
// among the leaves, as the principal an API key speaks for with authentication required (in
// memory, as HTTP would refuse to serialize the deepest arguments). Each answer is a tool result (never a protocol error), never `internal`,
// never a stack trace or the store's words, and a refusal changes nothing.

const RUNS_PER_TOOL = 10;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

type Result = CallToolResult & { structuredContent?: any };

describe(`fuzzing every tool's input (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  let t: TestApp;
  let server: McpServer;
  let client: Client;
  let pipelineId = '';

  async function ensurePipeline() {
    const listed = (await client.callTool({ name: 'get_pipeline', arguments: { pipeline_id: pipelineId || '00000000-0000-4000-8000-000000000000' } })) as Result;
    if (!listed.isError) return;
    const created = (await client.callTool({ name: 'propose_pipeline', arguments: { spec: smallSpec(`fuzz tools ${Date.now()}-${Math.random()}`) } })) as Result;
    pipelineId = created.structuredContent.pipeline_id;
  }

  beforeAll(async () => {
    t = await createTestApp('pglite', { authMode: 'required', environments: [writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] })] });
    const { key } = await t.issueKey({ org: 'fuzz', user: 'fuzzer', role: 'admin' });
    const principal = await t.auth.authenticate(as(key).authorization);
    server = createMcpServer({ domain: t.services.domain, logger: createLogger('silent'), approvals: t.services.approvals, readOnly: false }, principal);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: 'fuzz', version: '1.0.0' });
    await client.connect(clientSide);
    await ensurePipeline();
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await t.close();
  });

  const examples = (): Record<string, Record<string, unknown>> => ({
    search_block_types: { query: 'postgres incremental', category: 'source', limit: 5 },
    get_block_type: { ref: 'postgres_incremental_extract@1' },
    validate_pipeline: { spec: { name: 'v', blocks: [{ id: 'dbt', type: 'dbt_run', config: { project_dir: 'dbt', vars: { start: '2024-01-01' } } }] } },
    propose_pipeline: { spec: smallSpec('fuzz proposed', { description: 'd' }) },
    edit_pipeline: { pipeline_id: pipelineId, patch: [{ op: 'replace', path: '/description', value: 'x' }], base_version: 1 },
    get_pipeline: { pipeline_id: pipelineId, version: 1 },
    compile_pipeline: { pipeline_id: pipelineId, version: 1 },
    deploy_pipeline: { pipeline_id: pipelineId, environment: 'development', dry_run: true },
    launch_run: { pipeline_id: pipelineId, environment: 'development' },
    get_run_logs: { pipeline_id: pipelineId, run_id: 'run-1', environment: 'development' },
  });

  it('lists every tool', () => {
    expect(TOOLS.length).toBeGreaterThanOrEqual(15);
  });

  it(`no tool answers internal, a stack trace or the store's words; a refusal changes nothing (${RUNS_PER_TOOL} runs a tool)`, async () => {
    let runs = 0;
    for (const tool of TOOLS) {
      const schema = inputJsonSchema(tool) as Record<string, any>;
      const ctx: FuzzContext = { uuids: [pipelineId], words: ['development', 'production', 'postgres', 'run-1', 'rows', 'postgres_incremental_extract@1'] };
      const example = examples()[tool.name];
      // MCP says arguments are an object (the SDK refuses anything else before any tool runs), so a
      // generated non-object is sent as the value of a field.
      const args = fc
        .oneof(fromSchema(schema, schema, ctx), ...(example ? [mutated(example), mutated(example)] : []))
        .map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : { value: v }));
      await fc.assert(
        fc.asyncProperty(args, async (generated) => {
          runs++;
          const before = await storeCounts(t.db);
          const sent = materialise(generated);
          const what = `${tool.name} ${JSON.stringify(generated)?.slice(0, 400)}`;
          const result = (await client.request({ method: 'tools/call', params: { name: tool.name, arguments: sent as Record<string, unknown> } }, CallToolResultSchema)) as Result;
          const text = (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n');
          expect(text, what).not.toMatch(/^Error internal/);
          expectNoLeak(text, what);
          if (result.isError) expect(await storeCounts(t.db), `${what} → ${text.slice(0, 300)}`).toEqual(before);
          if (tool.name === 'delete_pipeline' && !result.isError) await ensurePipeline();
        }),
        { numRuns: RUNS_PER_TOOL, seed: SEED, endOnFailure: true },
      );
    }
    expect(runs).toBe(TOOLS.length * RUNS_PER_TOOL);
  }, 120_000);
});
