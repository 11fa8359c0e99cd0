import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedModel, user } from '../chat/helpers.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { as, createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';
import { encodeHostile, fromSchema, hostileLeaf, hostileString, mutated, toJsonText, type FuzzContext } from './fuzz-arbitraries.ts';
import { expectNoLeak, smallSpec, storeCounts } from './hostile.ts';

// Every route /openapi.json lists (a new route joins by being declared), called with
// authentication required and an API key (so the fuzz reaches past the door), fed bodies, path and
// query values shaped by its own schema and by known-good examples, with NULs, lone surrogates,
// huge integers, deep nesting, quotes and long strings among the leaves. No answer may be a 500,
// carry a stack trace or the store's own words, or follow a refusal with a changed store.
//
// Two 5xx answers are designed and allowed, each with its own code: 501 not_implemented (a block
// the block library does not implement yet) and 503 unavailable:dagster (runs in an environment
// with no Dagster, as here).

const RUNS_PER_ROUTE = 8;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const DESIGNED_5XX = /^(not_implemented|unavailable:dagster)/;

interface Operation {
  method: string;
  path: string;
  params: Array<{ name: string; in: 'path' | 'query'; schema: Record<string, any> }>;
  body?: Record<string, any>;
}

describe(`fuzzing every REST route (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let doc: Record<string, any>;
  const ids = { pipeline: '', block: '', block2: '', edge: '', deployment: '' };
  let credential: Record<string, string> = {};
  const call = (method: string, path: string, body?: unknown) => t.call(method, path, body, credential);
  const CHAT = 'fuzz-chat';

  /** The rows the routes act on; made again after a fuzzed DELETE removes one. */
  async function ensureFixtures() {
    if (!ids.pipeline || (await call('GET', `/v1/pipelines/${ids.pipeline}`)).status === 404) {
      const created = await call('POST', '/v1/pipelines', smallSpec(`fuzz ${Date.now()}-${Math.random()}`));
      ids.pipeline = created.body.id;
      const deployed = await call('POST', `/v1/pipelines/${ids.pipeline}/deployments`, { environment: 'development' });
      ids.deployment = deployed.body.id;
    }
    for (const key of ['block', 'block2'] as const) {
      if (!ids[key] || (await call('GET', `/v1/blocks/${ids[key]}`)).status === 404) {
        ids[key] = (await call('POST', '/v1/blocks', { block_type: 'postgres_incremental_extract', name: `Extract ${key}`, config: { table: 'public.orders' } })).body.id;
      }
    }
    if (!ids.edge || (await call('GET', `/v1/edges/${ids.edge}`)).status === 404) {
      const load = (await call('POST', '/v1/blocks', { block_type: 'clickhouse_replacing_merge_tree_load', name: 'Load', config: { table: 'orders', order_by: ['id'] } })).body.id;
      ids.edge = (await call('POST', '/v1/edges', { source_block_id: ids.block, source_port: 'rows', target_block_id: load, target_port: 'rows' })).body.id;
    }
    if ((await call('GET', `/v1/chats/${CHAT}`)).status === 404) {
      llm.script([{ text: 'Hello.' }]);
      await (await t.app.request('/v1/chat', { method: 'POST', headers: { 'content-type': 'application/json', ...credential }, body: JSON.stringify({ id: CHAT, messages: [user('m1', 'hi')], trigger: 'submit-message' }) })).text();
    }
  }

  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { authMode: 'required', llm: scriptedModel(llm), environments: [writeOnlyEnvironment('development', { secrets: ['POSTGRES_URL', 'CLICKHOUSE_URL'] })] });
    credential = as((await t.issueKey({ org: 'fuzz', user: 'fuzzer', role: 'admin' })).key);
    doc = (await call('GET', '/openapi.json')).body;
    await ensureFixtures();
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  const context = (): FuzzContext => ({
    uuids: Object.values(ids).filter(Boolean),
    words: ['development', 'production', 'rows', 'postgres_incremental_extract', 'clickhouse_replacing_merge_tree_load@1', 'public.orders', 'fuzz', CHAT, 'run-1'],
  });

  /** Known-good bodies, so hostile leaves get past the schema to the services and the store. */
  const examples = (): Record<string, unknown> => ({
    'POST /v1/pipelines': smallSpec('fuzz example', { description: 'd', schedules: [{ id: 'daily', cron: '0 0 * * *' }] }),
    'POST /v1/pipelines/validate': { name: 'v', blocks: [{ id: 'dbt', type: 'dbt_run', config: { project_dir: 'dbt', vars: { start: '2024-01-01' } } }] },
    'PUT /v1/pipelines/{id}': { spec: smallSpec('fuzz put', { description: 'd' }), base_version: 1 },
    'PATCH /v1/pipelines/{id}': [{ op: 'replace', path: '/description', value: 'x' }],
    'POST /v1/blocks': { block_type: 'postgres_incremental_extract', name: 'Extract', config: { table: 'public.orders' } },
    'PATCH /v1/blocks/{id}': { name: 'Renamed', config: { table: 'public.t' } },
    'POST /v1/edges': { source_block_id: ids.block, source_port: 'rows', target_block_id: ids.block2, target_port: 'rows' },
    'POST /v1/pipelines/{id}/deployments': { environment: 'development', version: 1 },
    'POST /v1/pipelines/{id}/runs': { environment: 'development' },
    'POST /v1/chat': { id: 'fuzz-new', messages: [user('m1', 'hello')], trigger: 'submit-message' },
    'POST /dagster/pipelines': { pipeline_name: 'seed', block_ids: [ids.block], configuration: { schedule: '0 * * * *' } },
    'POST /dagster/pipelines/{pipeline_id}/deploy': { environment: 'development' },
    // Refused before any network: a fuzz run must not clone (the compile itself: test/code-repos).
    'POST /dagster/compile': { repo_url: 'https://127.0.0.1/r.git', branch: 'main' },
  });

  function operations(): Operation[] {
    return Object.entries<Record<string, any>>(doc.paths).flatMap(([path, byMethod]) =>
      Object.entries<Record<string, any>>(byMethod).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        params: (op.parameters ?? []).map((p: any) => ({ name: p.name, in: p.in, schema: p.schema ?? {} })),
        ...(op.requestBody ? { body: op.requestBody.content['application/json'].schema } : {}),
      })),
    );
  }

  /** A request for `op`: its path and query values, and a body as JSON text. */
  function requests(op: Operation): fc.Arbitrary<{ url: string; body: string | undefined }> {
    const ctx = context();
    const example = examples()[`${op.method} ${op.path}`];
    const body = op.body
      ? fc.oneof(fromSchema(op.body, doc, ctx), ...(example !== undefined ? [mutated(example), mutated(example)] : [])).map(toJsonText)
      : fc.constant(undefined);
    const pathValues = op.params.filter((p) => p.in === 'path').map((p) =>
      fc.oneof({ weight: 3, arbitrary: p.schema.format === 'uuid' ? fc.constantFrom(...ctx.uuids) : fc.constantFrom(CHAT, 'run-1') }, { weight: 1, arbitrary: hostileString }).map((v) => [p.name, v] as const),
    );
    const queryValues = op.params.filter((p) => p.in === 'query').map((p) => fc.option(fc.oneof(fromSchema(p.schema, doc, ctx), hostileLeaf), { nil: undefined }).map((v) => [p.name, v] as const));
    return fc.tuple(fc.tuple(...pathValues), fc.tuple(...queryValues), body).map(([path, query, text]) => {
      let url = op.path;
      for (const [name, value] of path) url = url.replace(`{${name}}`, encodeHostile(String(value)));
      const search = query.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeHostile(typeof v === 'string' ? v : toJsonText(v))}`);
      return { url: search.length ? `${url}?${search.join('&')}` : url, body: text };
    });
  }

  it('the document lists every route family, the seed API included', () => {
    const paths = operations().map((o) => `${o.method} ${o.path}`);
    for (const expected of ['POST /v1/pipelines', 'PATCH /v1/pipelines/{id}', 'POST /v1/blocks', 'POST /v1/edges', 'POST /v1/pipelines/{id}/deployments', 'POST /v1/pipelines/{id}/runs', 'POST /v1/chat', 'POST /dagster/pipelines', 'POST /dagster/pipelines/{pipeline_id}/deploy']) {
      expect(paths).toContain(expected);
    }
    expect(paths.length).toBeGreaterThanOrEqual(40);
    // The key got through the door: every fixture the fuzz aims at exists.
    expect(ids).toEqual({ pipeline: expect.any(String), block: expect.any(String), block2: expect.any(String), edge: expect.any(String), deployment: expect.any(String) });
  });

  it(`no route answers 500, a stack trace or the store's words; a refusal changes nothing (${RUNS_PER_ROUTE} runs a route)`, async () => {
    llm.script(Array.from({ length: 2000 }, () => ({ text: 'Noted.' })));
    let runs = 0;
    for (const op of operations()) {
      await fc.assert(
        fc.asyncProperty(requests(op), async ({ url, body }) => {
          runs++;
          const before = await storeCounts(t.db);
          const res = await t.app.request(url, { method: op.method, headers: { 'content-type': 'application/json', ...credential }, ...(body !== undefined ? { body } : {}) });
          const text = await res.text();
          const what = `${op.method} ${url.slice(0, 300)} ${body?.slice(0, 300) ?? ''} → ${res.status} ${text.slice(0, 500)}`;
          if (res.status >= 500) expect(JSON.parse(text).error.code, what).toMatch(DESIGNED_5XX);
          expectNoLeak(text, what);
          if (res.status >= 400) expect(await storeCounts(t.db), what).toEqual(before);
          if (op.method === 'DELETE' && res.status < 300) await ensureFixtures();
        }),
        { numRuns: RUNS_PER_ROUTE, seed: SEED, endOnFailure: true },
      );
    }
    expect(runs).toBeGreaterThanOrEqual(operations().length * RUNS_PER_ROUTE);
  }, 120_000);
});
