import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { createLogger } from '../../src/logger.ts';
import { TOOLS, type Tool, type ToolContext } from '../../tools/index.ts';
import { inputJsonSchema, openAiFunction } from '../../tools/json-schema.ts';
import { runTool } from '../../tools/run-tool.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// OpenAI function definitions in strict mode, from the same zod schemas the MCP server serves:
// what strict mode demands of every schema node, and that the tool runner takes what a
// strict-mode model actually sends (every key, null for the unused, free-form fields as strings).

type Schema = Record<string, any>;
const tool = (name: string) => TOOLS.find((x) => x.name === name)!;
const acceptsNull = (s: Schema) => (Array.isArray(s.type) && s.type.includes('null')) || (Array.isArray(s.anyOf) && s.anyOf.some((m: Schema) => m.type === 'null'));
// Keywords strict mode refuses, or that do not belong in a function's parameters.
const REFUSED = ['default', '$schema', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', 'patternProperties', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum', 'minItems', 'maxItems'];

/** Every schema node under `node`, with its JSON path. */
function* nodes(node: Schema, path = '#'): Generator<[string, Schema]> {
  yield [path, node];
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) yield* nodes(child, `${path}/properties/${key}`);
  if (node.items && typeof node.items === 'object') yield* nodes(node.items as Schema, `${path}/items`);
  for (const [i, member] of ((node.anyOf ?? []) as Schema[]).entries()) yield* nodes(member, `${path}/anyOf/${i}`);
  for (const [key, def] of Object.entries((node.$defs ?? node.definitions ?? {}) as Record<string, Schema>)) yield* nodes(def, `${path}/$defs/${key}`);
}
const isObjectNode = (s: Schema) => s.type === 'object' || (Array.isArray(s.type) && s.type.includes('object')) || s.properties !== undefined;

describe('OpenAI strict function schemas', () => {
  it.each(TOOLS.map((x) => [x.name, x] as const))('%s is a strict function', (_name, t) => {
    const fn = openAiFunction(t);
    expect(fn).toMatchObject({ type: 'function', name: t.name, description: t.description, strict: true });
    expect(fn.parameters.type).toBe('object');
    let objects = 0;
    for (const [path, node] of nodes(fn.parameters as Schema)) {
      for (const keyword of REFUSED) expect(node, `${t.name} ${path} has "${keyword}"`).not.toHaveProperty(keyword);
      // Every node says what it is: no "anything" schema strict mode cannot check.
      expect(node.type !== undefined || node.anyOf !== undefined || node.enum !== undefined || node.const !== undefined, `${t.name} ${path} has no type`).toBe(true);
      if (!isObjectNode(node)) continue;
      objects++;
      expect(node.additionalProperties, `${t.name} ${path}`).toBe(false);
      expect([...(node.required as string[])].sort(), `${t.name} ${path}`).toEqual(Object.keys(node.properties ?? {}).sort());
    }
    expect(objects).toBeGreaterThanOrEqual(1);
    // A schema a validator accepts (and so a model provider can load).
    expect(() => new Ajv2020({ strict: false }).compile(fn.parameters)).not.toThrow();
  });

  it.each(TOOLS.map((x) => [x.name, x] as const))('%s: optional inputs are nullable, required ones are not', (_name, t) => {
    const fn = openAiFunction(t);
    const properties = fn.parameters.properties as Record<string, Schema>;
    const required = new Set((inputJsonSchema(t).required as string[] | undefined) ?? []);
    expect(Object.keys(properties).sort()).toEqual(Object.keys(t.input.shape).sort());
    for (const [key, prop] of Object.entries(properties)) expect(acceptsNull(prop), `${t.name}.${key}`).toBe(!required.has(key));
  });

  it('asks for free-form fields (spec, patch) as JSON strings', () => {
    for (const [name, field] of [['validate_pipeline', 'spec'], ['propose_pipeline', 'spec'], ['edit_pipeline', 'patch']] as const) {
      const prop = (openAiFunction(tool(name)).parameters.properties as Record<string, Schema>)[field]!;
      expect(prop.type, `${name}.${field}`).toBe('string');
      expect(prop.description, `${name}.${field}`).toMatch(/Send it as a JSON-encoded string\.$/);
    }
    // Enums survive, with null added for an optional one.
    const category = (openAiFunction(tool('search_block_types')).parameters.properties as Record<string, Schema>).category!;
    expect(category.type).toEqual(['string', 'null']);
    expect(category.enum).toContain('source');
    expect(category.enum).toContain(null);
  });

  describe('the tool runner takes what a strict-mode model sends', () => {
    let t: TestApp;
    let pipelineId: string;
    const ajv = new Ajv2020({ strict: false });
    const ctx = (): ToolContext => ({ principal: LOCAL_PRINCIPAL, domain: t.services.domain, log: createLogger('silent'), signal: new AbortController().signal, caller: 'model', surface: 'mcp' });
    const opts = { readOnly: false, get approvals() { return t.services.approvals; } };

    /** Checks the arguments against the strict schema first: they are what such a model could send. */
    async function run(name: string, args: Record<string, unknown>) {
      const fn = openAiFunction(tool(name));
      const validate = ajv.compile(fn.parameters);
      expect(validate(args), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      return runTool(tool(name) as Tool, args, ctx(), opts);
    }

    beforeAll(async () => {
      t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] })] });
      pipelineId = (await t.services.pipelines.create(LOCAL_PRINCIPAL, flagshipSpec())).pipeline.id;
    });
    afterAll(() => t.close());

    it('search_block_types with every optional field null', async () => {
      const outcome = await run('search_block_types', { query: 'incremental postgres', category: null, input_type: null, output_type: null, limit: null });
      expect(outcome.kind).toBe('ok');
      if (outcome.kind !== 'ok') return;
      expect((outcome.output as any).results[0].block_type.ref).toBe('postgres_incremental_extract@1');
      expect((outcome.output as any).results.length).toBeLessThanOrEqual(10);
    });

    it('validate_pipeline with the spec as a JSON string', async () => {
      const ok = await run('validate_pipeline', { spec: JSON.stringify(flagshipSpec()) });
      expect(ok).toMatchObject({ kind: 'ok', output: { valid: true, errors: [] } });
      const bad = await run('validate_pipeline', { spec: JSON.stringify({ ...flagshipSpec(), edges: [] }) });
      expect(bad).toMatchObject({ kind: 'ok', output: { valid: false } });
      // A string that is not JSON is still an error the model can fix.
      const garbled = await run('validate_pipeline', { spec: '{"name": "x", blocks: [' });
      expect(garbled.kind).toBe('error');
      expect(garbled.text).toMatch(/^Error invalid:arguments/);
      expect(garbled.text).toContain('- /spec: ');
    });

    it('edit_pipeline with the patch as a JSON string and base_version null', async () => {
      const outcome = await run('edit_pipeline', { pipeline_id: pipelineId, patch: JSON.stringify([{ op: 'replace', path: '/schedules/0/cron', value: '15 */6 * * *' }]), base_version: null });
      expect(outcome).toMatchObject({ kind: 'ok', output: { version: 2 } });
      if (outcome.kind !== 'ok') return;
      expect((outcome.output as any).spec.schedules[0].cron).toBe('15 */6 * * *');
    });

    it('propose_pipeline and get_pipeline with nulls for the optional ids and versions', async () => {
      const saved = await run('propose_pipeline', { spec: JSON.stringify({ ...flagshipSpec(), name: 'strict' }), pipeline_id: null, base_version: null });
      expect(saved).toMatchObject({ kind: 'ok', output: { name: 'strict', version: 1 } });
      const got = await run('get_pipeline', { pipeline_id: pipelineId, version: null });
      expect(got).toMatchObject({ kind: 'ok', output: { version: 2 } });
    });

    it('deploy_pipeline with dry_run null stays a dry run', async () => {
      const outcome = await run('deploy_pipeline', { pipeline_id: pipelineId, environment: 'development', version: null, dry_run: null, ...('wait' in tool('deploy_pipeline').input.shape ? { wait: null } : {}) });
      expect(outcome).toMatchObject({ kind: 'ok', output: { dry_run: true, environment: 'development' } });
      expect(await t.services.deploymentRepo.list(LOCAL_PRINCIPAL, pipelineId)).toEqual([]);
    });

    it('the whole arguments object sent as one JSON string', async () => {
      const outcome = await runTool(tool('search_block_types') as Tool, JSON.stringify({ query: 'clickhouse', category: null, input_type: null, output_type: null, limit: 2 }), ctx(), opts);
      expect(outcome.kind).toBe('ok');
      if (outcome.kind !== 'ok') return;
      expect((outcome.output as any).results).toHaveLength(2);
    });
  });
});
