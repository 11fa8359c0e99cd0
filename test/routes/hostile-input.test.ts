import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { AppError } from '../../src/errors.ts';
import { findUnstorable, MAX_DEPTH } from '../../src/input-guard.ts';
import { PipelineRepo } from '../../src/pipelines/pipeline-repo.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { scriptedModel, user } from '../chat/helpers.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { deepJson, expectNoLeak, smallSpec, storeCounts } from './hostile.ts';

// What the store cannot hold (NUL, half a UTF-16 character, nesting past 64 levels, integers past
// int4) used to reach it and come back as 500 internal. Each is now a 400 naming the field, and
// nothing is stored.

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';

const spec = (over: Record<string, unknown> = {}) =>
  smallSpec('hostile orders', { description: 'New and changed orders', schedules: [{ id: 'every_six_hours', cron: '0 */6 * * *' }], ...over });

/** A spec whose dbt block's free-form `vars` holds `vars` (as JSON text, so it may be deeper than JSON.stringify goes). */
const dbtSpecText = (varsJson: string) =>
  JSON.stringify({ name: 'dbt vars', blocks: [{ id: 'transform', type: 'dbt_run', config: { project_dir: '/srv/dbt/analytics', vars: '__VARS__' } }] }).replace('"__VARS__"', varsJson);

describe('input the store cannot hold', () => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let pipelineId: string;
  let blockId: string;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', { llm: scriptedModel(llm) });
    const created = await t.call('POST', '/v1/pipelines', spec({ name: 'existing' }));
    expect(created.status).toBe(201);
    pipelineId = created.body.id;
    const block = await t.call('POST', '/v1/blocks', { block_type: 'postgres_incremental_extract', name: 'Extract', config: { table: 'public.orders' } });
    expect(block.status).toBe(201);
    blockId = block.body.id;
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  /** Sends the request and expects a 400 whose issue names `path` with `code`, and no store change. */
  async function refused(method: string, url: string, body: unknown, path: string, code: string) {
    const before = await storeCounts(t.db);
    const res = await t.call(method, url, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toMatch(/^invalid:/);
    expect(res.body.error.issues).toContainEqual(expect.objectContaining({ code, path, message: expect.any(String), hint: expect.any(String) }));
    expectNoLeak(JSON.stringify(res.body));
    expect(await storeCounts(t.db)).toEqual(before);
    return res;
  }

  for (const [label, text, code] of [['a NUL character', NUL, 'nul_character'], ['a lone surrogate', LONE, 'lone_surrogate']] as const) {
    describe(`${label} in a text field → 400 naming it`, () => {
      it('pipeline name and description', async () => {
        await refused('POST', '/v1/pipelines', spec({ name: text }), '/name', code);
        await refused('POST', '/v1/pipelines', spec({ description: text }), '/description', code);
        await refused('POST', '/v1/pipelines/validate', spec({ description: text }), '/description', code);
      });

      it('block name, on create and on rename', async () => {
        await refused('POST', '/v1/blocks', { block_type: 'postgres_incremental_extract', name: text, config: { table: 'public.orders' } }, '/name', code);
        await refused('PATCH', `/v1/blocks/${blockId}`, { name: text }, '/name', code);
      });

      it('a JSON patch value', async () => {
        await refused('PATCH', `/v1/pipelines/${pipelineId}`, [{ op: 'replace', path: '/description', value: text }], '/0/value', code);
        await refused('PUT', `/v1/pipelines/${pipelineId}`, { spec: spec({ name: 'existing', description: text }) }, '/spec/description', code);
      });

      it('a chat message', async () => {
        const res = await refused('POST', '/v1/chat', { id: `hostile-${code}`, messages: [user('u1', text)], trigger: 'submit-message' }, '/messages/0/parts/0/text', code);
        expect(res.headers.get('content-type')).toContain('application/json');
        expect(llm.requests).toHaveLength(0);
      });

      it("dbt's free-form vars, as a value and as a key", async () => {
        await refused('POST', '/v1/pipelines', dbtSpecText(JSON.stringify({ start_date: text })), '/blocks/0/config/vars/start_date', code);
        await refused('POST', '/v1/pipelines', dbtSpecText(JSON.stringify({ [text]: 1 })), `/blocks/0/config/vars/${text}`, code);
      });

      it('the seed API and the deployments body', async () => {
        await refused('POST', '/dagster/pipelines/', { pipeline_name: text, block_ids: [blockId], configuration: {} }, '/pipeline_name', code);
        await refused('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: text }, '/environment', code);
      });
    });
  }

  it('a NUL in the query string or the path → 400 naming it', async () => {
    await refused('GET', '/v1/block-types?q=a%00b', undefined, '/query/q', 'nul_character');
    await refused('GET', `/v1/pipelines/${pipelineId}/runs/run%00id`, undefined, `/path`, 'nul_character');
  });

  it('free-form config nested 10,000 levels deep → 400 at the first level past 64', async () => {
    const res = await refused('POST', '/v1/pipelines', dbtSpecText(deepJson(10_000)), `/blocks/0/config/vars${'/a'.repeat(MAX_DEPTH - 4)}`, 'too_deep');
    expect(res.body.error.issues[0].hint).toContain(String(MAX_DEPTH));
    // A JSON patch carrying it is refused the same way.
    await refused('PATCH', `/v1/pipelines/${pipelineId}`, `[{"op":"add","path":"/blocks/0/config/x","value":${deepJson(10_000)}}]`, `/0/value${'/a'.repeat(MAX_DEPTH - 2)}`, 'too_deep');
  });

  it('nesting up to 64 levels is accepted', async () => {
    const res = await t.call('POST', '/v1/pipelines/validate', dbtSpecText(deepJson(MAX_DEPTH - 5)));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('a version beyond the store\'s integers → 400 at /query/version, not 500', async () => {
    const get = await t.call('GET', `/v1/pipelines/${pipelineId}?version=99999999999`);
    expect(get.status).toBe(400);
    expect(get.body.error.issues).toEqual([expect.objectContaining({ path: '/query/version', hint: expect.stringContaining('2147483647') })]);
    const compile = await t.call('POST', `/v1/pipelines/${pipelineId}/compile?version=2147483648`);
    expect(compile.status).toBe(400);
    expect(compile.body.error.issues).toEqual([expect.objectContaining({ path: '/query/version' })]);
    // The largest one the store holds is simply not there.
    expect((await t.call('GET', `/v1/pipelines/${pipelineId}?version=2147483647`)).status).toBe(404);
    await refused('POST', `/v1/pipelines/${pipelineId}/deployments`, { version: 2 ** 31 }, '/version', 'invalid_value');
    await refused('PUT', `/v1/pipelines/${pipelineId}`, { spec: spec({ name: 'existing' }), base_version: 2 ** 40 }, '/base_version', 'invalid_value');
  });

  it('the pipeline store refuses a spec it cannot hold itself, behind the routes (no stack overflow)', async () => {
    const deep = JSON.parse(dbtSpecText(deepJson(10_000))) as PipelineSpec;
    const before = await storeCounts(t.db);
    const attempt = new PipelineRepo(t.db).create(LOCAL_PRINCIPAL, deep, { kind: 'spec' });
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toMatchObject({ code: 'invalid:pipeline', issues: [expect.objectContaining({ code: 'too_deep' })] });
    await expect(new PipelineRepo(t.db).create(LOCAL_PRINCIPAL, { ...(spec() as unknown as PipelineSpec), name: NUL }, { kind: 'spec' })).rejects.toMatchObject({ code: 'invalid:pipeline' });
    expect(await storeCounts(t.db)).toEqual(before);
  });
});

describe('findUnstorable', () => {
  it('walks a value far deeper than the call stack without recursion', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const issues = findUnstorable(deep);
    expect(issues).toEqual([expect.objectContaining({ code: 'too_deep', path: '/0'.repeat(MAX_DEPTH) })]);
  });

  it('accepts whole characters (surrogate pairs, emoji) and reports issues in document order', () => {
    expect(findUnstorable({ text: 'café 😀 \ud83d\ude00', list: ['ok'] })).toEqual([]);
    const issues = findUnstorable({ a: 'x\udc00', b: [{ c: 'y\u0000' }], 'd/e~': '\ud800' });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['/a', 'lone_surrogate'],
      ['/b/0/c', 'nul_character'],
      ['/d~1e~0', 'lone_surrogate'],
    ]);
  });
});
