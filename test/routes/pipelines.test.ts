import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specHash } from '../../src/pipelines/pipeline-repo.ts';
import { STORE_KINDS } from '../support/databases.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// The pipeline API end to end through the real app and a real store: every write validates the
// whole spec and stores a new version, or stores nothing and says what is wrong.

const MISSING = '3b0f6a1e-2c4d-4e8f-9a1b-7c6d5e4f3a2b';
const HEX64 = /^[0-9a-f]{64}$/;

/** A valid spec sent the way a model would: block types without versions, defaults left out. */
const spec = (name: string) => ({
  name,
  description: 'New and changed orders every six hours',
  blocks: [
    { id: 'extract', type: 'postgres_incremental_extract', config: { table: 'public.orders' } },
    { id: 'load', type: 'clickhouse_replacing_merge_tree_load@1', config: { table: 'orders', order_by: ['id'] } },
  ],
  edges: [{ from: { block: 'extract', port: 'rows' }, to: { block: 'load', port: 'rows' } }],
  schedules: [{ id: 'every_six_hours', cron: '0 */6 * * *' }],
});

describe.each(STORE_KINDS)('pipelines API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  async function create(name: string) {
    const res = await t.call('POST', '/v1/pipelines', spec(name));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  const names = async () => ((await t.call('GET', '/v1/pipelines')).body.pipelines as Array<{ name: string }>).map((p) => p.name);

  async function current(id: string) {
    const res = await t.call('GET', `/v1/pipelines/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  const patch = (id: string, body: unknown, contentType = 'application/json-patch+json') =>
    t.call('PATCH', `/v1/pipelines/${id}`, body, { 'content-type': contentType });

  describe('POST /v1/pipelines', () => {
    it('stores version 1 with block types pinned and defaults filled in', async () => {
      const body = await create('orders create');
      expect(body).toMatchObject({ name: 'orders create', description: 'New and changed orders every six hours', version: 1, current_version: 1 });
      expect(body.spec.blocks.map((b: { type: string }) => b.type)).toEqual(['postgres_incremental_extract@1', 'clickhouse_replacing_merge_tree_load@1']);
      expect(body.spec).toMatchObject({ jobs: [], sensors: [], schedules: [{ id: 'every_six_hours', cron: '0 */6 * * *', timezone: 'UTC' }] });
      expect(body.spec_hash).toMatch(HEX64);
      expect(body.spec_hash).toBe(specHash(body.spec));
      expect(body.versions).toEqual([{ version: 1, spec_hash: body.spec_hash, origin: { kind: 'spec' }, created_by: body.owner_id, created_at: body.created_at }]);
      expect(await names()).toContain('orders create');
    });

    it('refuses an invalid spec with every issue and stores nothing', async () => {
      const before = await names();
      const bad = { ...spec('orders invalid'), blocks: [{ id: 'extract', type: 'postgres_extract', config: { table: 'orders' } }, spec('x').blocks[1]!], schedules: [{ id: 'hourly', cron: '0 * * *' }] };
      const res = await t.call('POST', '/v1/pipelines', bad);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid:pipeline', message: 'The pipeline spec has 2 problems; nothing was saved.' });
      expect(res.body.error.issues.map((i: { code: string; path: string }) => `${i.code} ${i.path}`)).toEqual([
        'unknown_block_type /blocks/0/type',
        'invalid_cron /schedules/0/cron',
      ]);
      expect(await names()).toEqual(before);
      // Nothing half-stored either: the name is still free.
      await create('orders invalid');
    });

    it('refuses a spec of the wrong shape with the paths, and stores nothing', async () => {
      const before = await names();
      const res = await t.call('POST', '/v1/pipelines', { name: 'orders shape', blocks: 'extract' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toMatch(/^invalid:/);
      expect(res.body.error.issues).toContainEqual(expect.objectContaining({ path: '/blocks' }));
      expect(await names()).toEqual(before);
    });

    it('refuses a name already taken', async () => {
      await create('orders twice');
      const before = await names();
      const res = await t.call('POST', '/v1/pipelines', spec('orders twice'));
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict:pipeline_name');
      expect(res.body.error.message).toContain('"orders twice"');
      expect(await names()).toEqual(before);
    });
  });

  describe('GET /v1/pipelines/{id}', () => {
    it('shows the current version, the history, and an older version on request', async () => {
      const created = await create('orders history');
      const edited = await patch(created.id, [{ op: 'replace', path: '/blocks/0/config/table', value: 'public.orders_v2' }]);
      expect(edited.status, JSON.stringify(edited.body)).toBe(200);

      const now = await current(created.id);
      expect(now).toMatchObject({ id: created.id, version: 2, current_version: 2 });
      expect(now.spec.blocks[0].config.table).toBe('public.orders_v2');
      expect(now.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
      expect(now.versions[1].spec_hash).toBe(created.spec_hash);
      expect(now.spec_hash).not.toBe(created.spec_hash);

      const old = await t.call('GET', `/v1/pipelines/${created.id}?version=1`);
      expect(old.status).toBe(200);
      expect(old.body).toMatchObject({ version: 1, current_version: 2, spec_hash: created.spec_hash });
      expect(old.body.spec).toEqual(created.spec);

      const beyond = await t.call('GET', `/v1/pipelines/${created.id}?version=3`);
      expect(beyond.status).toBe(404);
      expect(beyond.body.error.code).toBe('not_found:pipeline_version');
      expect(beyond.body.error.hint).toContain('1 to 2');

      const zero = await t.call('GET', `/v1/pipelines/${created.id}?version=0`);
      expect(zero.status).toBe(400);
      expect(zero.body.error.issues).toContainEqual(expect.objectContaining({ path: '/query/version' }));
    });

    it('answers 404 for an id that is not there and 400 for one that is not a UUID', async () => {
      const missing = await t.call('GET', `/v1/pipelines/${MISSING}`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found:pipeline');
      expect(missing.body.error.message).toContain(MISSING);

      const bad = await t.call('GET', '/v1/pipelines/orders');
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid:request');
      expect(bad.body.error.issues).toEqual([expect.objectContaining({ path: '/param/id', message: 'must be a UUID' })]);
    });
  });

  describe('PATCH /v1/pipelines/{id}', () => {
    it.each(['application/json-patch+json', 'application/json'])('applies a raw RFC 6902 array sent as %s', async (contentType) => {
      const created = await create(`orders patch ${contentType}`);
      const ops = [
        { op: 'replace', path: '/blocks/0/config/table', value: 'public.invoices' },
        { op: 'add', path: '/blocks/0/config/batch_size', value: 500 },
      ];
      const res = await patch(created.id, ops, contentType);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ version: 2, current_version: 2 });
      expect(res.body.spec.blocks[0].config).toEqual({ table: 'public.invoices', batch_size: 500 });
      expect(res.body.spec.blocks[1]).toEqual(created.spec.blocks[1]);
      expect(res.body.versions[0].origin).toEqual({ kind: 'patch', patch: ops, base_version: 1 });
    });

    it('pins a block type the patch adds and records the patch exactly as sent', async () => {
      const created = await create('orders patch add block');
      const ops = [
        { op: 'add', path: '/blocks/-', value: { id: 'export', type: 's3_files_write', config: { bucket: 'exports', endpoint_url: 'http://garage:3900', format: 'parquet' } } },
        { op: 'add', path: '/edges/-', value: { from: { block: 'extract', port: 'rows' }, to: { block: 'export', port: 'rows' } } },
        // Edits inside the value the first operation added.
        { op: 'replace', path: '/blocks/2/config/format', value: 'csv' },
      ];
      const res = await patch(created.id, ops);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.spec.blocks[2]).toMatchObject({ id: 'export', type: 's3_files_write@1' });
      expect(res.body.spec.blocks[2].config.format).toBe('csv');
      expect(res.body.versions[0].origin.patch).toEqual(ops);
    });

    it('takes {patch, base_version} and refuses a stale base version', async () => {
      const created = await create('orders base version');
      const first = await t.call('PATCH', `/v1/pipelines/${created.id}`, { patch: [{ op: 'replace', path: '/blocks/0/config/table', value: 'a' }], base_version: 1 });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.version).toBe(2);

      // Another edit made against version 1: version 2 already exists.
      const stale = await t.call('PATCH', `/v1/pipelines/${created.id}`, { patch: [{ op: 'replace', path: '/blocks/0/config/table', value: 'b' }], base_version: 1 });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('conflict:pipeline_version');
      expect(stale.body.error.message).toContain('is at version 2, not 1');
      // Even when the edit would not apply to the current spec, the conflict is what is reported.
      const staleTest = await t.call('PATCH', `/v1/pipelines/${created.id}`, { patch: [{ op: 'test', path: '/blocks/0/config/table', value: 'public.orders' }], base_version: 1 });
      expect(staleTest.status).toBe(409);

      const after = await current(created.id);
      expect(after.current_version).toBe(2);
      expect(after.versions).toHaveLength(2);
      expect(after.spec.blocks[0].config.table).toBe('a');
    });

    it('refuses a patch whose result is invalid and keeps the version', async () => {
      const created = await create('orders patch invalid');
      const res = await patch(created.id, [{ op: 'replace', path: '/edges/0/to/port', value: 'input' }]);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:pipeline');
      expect(res.body.error.issues).toContainEqual(expect.objectContaining({ code: 'missing_port', path: '/edges/0/to/port', hint: 'Its inputs: "rows" (table).' }));
      const after = await current(created.id);
      expect(after.current_version).toBe(1);
      expect(after.spec_hash).toBe(created.spec_hash);
    });

    it('names the operation that cannot apply', async () => {
      const created = await create('orders patch unappliable');
      const missingPath = await patch(created.id, [{ op: 'replace', path: '/blocks/5/config/table', value: 'x' }]);
      expect(missingPath.status).toBe(400);
      expect(missingPath.body.error.code).toBe('invalid:patch');
      expect(missingPath.body.error.message).toMatch(/^JSON patch operation 0 could not be applied: /);
      expect(missingPath.body.error.message).not.toContain('\n');

      // The second operation fails: the error names it, not the first.
      const second = await patch(created.id, [
        { op: 'replace', path: '/name', value: 'renamed' },
        { op: 'remove', path: '/blocks/0/config/batch_size' },
      ]);
      expect(second.status).toBe(400);
      expect(second.body.error.message).toMatch(/^JSON patch operation 1 could not be applied/);
      expect(second.body.error.issues).toEqual([expect.objectContaining({ code: 'invalid_patch', path: '/1' })]);
      expect(second.body.error.issues[0].message).toContain('"/blocks/0/config/batch_size"');

      const failedTest = await patch(created.id, [
        { op: 'test', path: '/blocks/0/config/table', value: 'public.orders' },
        { op: 'test', path: '/name', value: 'someone else' },
        { op: 'replace', path: '/name', value: 'renamed' },
      ]);
      expect(failedTest.status).toBe(400);
      expect(failedTest.body.error.code).toBe('invalid:patch');
      expect(failedTest.body.error.message).toMatch(/^JSON patch operation 1 could not be applied: Test operation failed/);

      const after = await current(created.id);
      expect(after).toMatchObject({ name: 'orders patch unappliable', current_version: 1 });
    });

    it('refuses a malformed patch', async () => {
      const created = await create('orders patch malformed');
      for (const body of [[{ op: 'frobnicate', path: '/name', value: 'x' }], [], { op: 'replace', path: '/name', value: 'x' }, [{ op: 'replace', path: 'name', value: 'x' }]]) {
        const res = await patch(created.id, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toMatch(/^invalid:/);
        expect(res.body.error.issues.length).toBeGreaterThan(0);
      }
      expect((await current(created.id)).current_version).toBe(1);
    });

    it('answers 404 for a pipeline that is not there', async () => {
      const res = await patch(MISSING, [{ op: 'replace', path: '/name', value: 'x' }]);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found:pipeline');
    });
  });

  describe('PUT /v1/pipelines/{id}', () => {
    it('replaces the spec as a new version', async () => {
      const created = await create('orders put');
      const next = { ...spec('orders put renamed'), schedules: [{ id: 'daily', cron: '@daily', timezone: 'Europe/Berlin' }] };
      const res = await t.call('PUT', `/v1/pipelines/${created.id}`, { spec: next, base_version: 1 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ id: created.id, name: 'orders put renamed', version: 2, current_version: 2 });
      expect(res.body.spec.schedules).toEqual([{ id: 'daily', cron: '@daily', timezone: 'Europe/Berlin' }]);
      expect(res.body.spec.blocks[0].type).toBe('postgres_incremental_extract@1');
      expect(res.body.versions[0].origin).toEqual({ kind: 'replace' });
      expect(await names()).toContain('orders put renamed');
      expect(await names()).not.toContain('orders put');
    });

    it('refuses a stale base version, an invalid spec and a taken name, keeping the version', async () => {
      const created = await create('orders put refused');
      await create('orders put other');

      const stale = await t.call('PUT', `/v1/pipelines/${created.id}`, { spec: spec('orders put refused'), base_version: 2 });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('conflict:pipeline_version');

      const invalid = await t.call('PUT', `/v1/pipelines/${created.id}`, { spec: { ...spec('orders put refused'), edges: [] } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('invalid:pipeline');
      expect(invalid.body.error.issues).toEqual([expect.objectContaining({ code: 'missing_port', path: '/blocks/1' })]);

      const taken = await t.call('PUT', `/v1/pipelines/${created.id}`, { spec: spec('orders put other') });
      expect(taken.status).toBe(409);
      expect(taken.body.error.code).toBe('conflict:pipeline_name');

      const after = await current(created.id);
      expect(after).toMatchObject({ name: 'orders put refused', current_version: 1, spec_hash: created.spec_hash });
    });
  });

  describe('POST /v1/pipelines/validate', () => {
    it('reports problems with 200 and saves nothing', async () => {
      const before = await names();
      const bad = { ...spec('orders validate'), edges: [{ from: { block: 'extract', port: 'rows' }, to: { block: 'extract', port: 'rows' } }] };
      const res = await t.call('POST', '/v1/pipelines/validate', bad);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['errors', 'valid', 'warnings']);
      expect(res.body.valid).toBe(false);
      expect(res.body.errors.map((i: { code: string; path: string }) => `${i.code} ${i.path}`)).toEqual([
        'missing_port /edges/0/to/port',
        'cycle /edges/0',
        'missing_port /blocks/1',
      ]);

      const shape = await t.call('POST', '/v1/pipelines/validate', { name: 'orders validate', blocks: [] });
      expect(shape.status).toBe(200);
      expect(shape.body).toMatchObject({ valid: false, errors: [expect.objectContaining({ path: '/blocks' })] });

      expect(await names()).toEqual(before);
    });

    it('passes a good spec, with its warnings', async () => {
      const good = { ...spec('orders validate good'), blocks: [...spec('x').blocks, { id: 'customers', type: 'postgres_incremental_extract', config: { table: 'customers' } }] };
      const res = await t.call('POST', '/v1/pipelines/validate', good);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ valid: true, errors: [], warnings: [expect.objectContaining({ code: 'isolated_block', path: '/blocks/2' })] });
    });
  });

  it('publishes the spec schema in /openapi.json', async () => {
    const res = await t.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const schema = res.body.components.schemas.PipelineSpec;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: expect.arrayContaining(['name', 'blocks']) });
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['blocks', 'edges', 'jobs', 'schedules', 'sensors', 'partitions']));
  });

  describe('DELETE /v1/pipelines/{id}', () => {
    it('deletes the pipeline and its versions', async () => {
      const created = await create('orders delete');
      await patch(created.id, [{ op: 'replace', path: '/description', value: 'about to go' }]);
      const res = await t.call('DELETE', `/v1/pipelines/${created.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: 'Pipeline deleted successfully.' });

      const gone = await t.call('GET', `/v1/pipelines/${created.id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.error.code).toBe('not_found:pipeline');
      expect(await t.call('GET', `/v1/pipelines/${created.id}?version=1`)).toMatchObject({ status: 404 });
      expect(await names()).not.toContain('orders delete');
      const rows = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pipeline_versions WHERE pipeline_id = $1', [created.id]);
      expect(rows[0]!.n).toBe(0);

      const again = await t.call('DELETE', `/v1/pipelines/${created.id}`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('not_found:pipeline');
      // The name is free again.
      await create('orders delete');
    });

    it('answers 400 for an id that is not a UUID', async () => {
      const res = await t.call('DELETE', '/v1/pipelines/not-a-uuid');
      expect(res.status).toBe(400);
      expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/param/id' })]);
    });
  });
});
