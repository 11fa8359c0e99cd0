import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { STORE_KINDS } from '../support/databases.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Blocks placed from block types and the edges between their ports: /v1/blocks and /v1/edges.

const MISSING = '7f3c1a52-9d4e-4b8a-8c21-5e6f7a8b9c0d';
const STRANGER = { orgId: '30000000-0000-4000-8000-000000000001', userId: '30000000-0000-4000-8000-000000000002' };

describe.each(STORE_KINDS)('blocks and edges on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  const place = async (name: string, block_type: string, config: Record<string, unknown>) => {
    const res = await t.call('POST', '/v1/blocks', { name, block_type, config });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; name: string; block_type: string; config: Record<string, unknown> };
  };
  const extract = (name = 'Extract orders') => place(name, 'postgres_incremental_extract', { table: 'public.orders' });
  const load = (name = 'Load orders') => place(name, 'clickhouse_replacing_merge_tree_load', { table: 'orders', order_by: ['id'] });
  const connect = (source: string, source_port: string, target: string, target_port: string) =>
    t.call('POST', '/v1/edges', { source_block_id: source, source_port, target_block_id: target, target_port });

  describe('blocks', () => {
    it('creates a block, pinning "slug" to "slug@version"', async () => {
      const res = await t.call('POST', '/v1/blocks', { name: 'Extract customers', block_type: 'postgres_incremental_extract', config: { table: 'public.customers', batch_size: 500 } });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Extract customers',
        block_type: 'postgres_incremental_extract@1',
        config: { table: 'public.customers', batch_size: 500 },
        owner_id: LOCAL_PRINCIPAL.userId,
        org_id: LOCAL_PRINCIPAL.orgId,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);

      const got = await t.call('GET', `/v1/blocks/${res.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body);
    });

    it('keeps an explicit version and defaults config to {} (then validates it)', async () => {
      const res = await t.call('POST', '/v1/blocks', { name: 'No config', block_type: 'postgres_incremental_extract@1' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:config');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/config/table' })]);
    });

    it('validates config against the type\'s JSON Schema, with a path and a hint per problem', async () => {
      const res = await t.call('POST', '/v1/blocks', { name: 'Load', block_type: 'clickhouse_replacing_merge_tree_load@1', config: { table: 'orders' } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:config');
      expect(res.body.error.hint).toEqual(expect.any(String));
      expect(res.body.error.issues).toEqual([
        expect.objectContaining({ path: '/config/order_by', message: expect.stringContaining('order_by'), hint: expect.stringContaining('ORDER BY') }),
      ]);

      const wrong = await t.call('POST', '/v1/blocks', {
        name: 'Extract',
        block_type: 'postgres_incremental_extract',
        config: { table: 'orders', batch_size: 'lots', colour: 'blue' },
      });
      expect(wrong.status).toBe(400);
      const paths = wrong.body.error.issues.map((i: { path: string }) => i.path).sort();
      expect(paths).toEqual(['/config/batch_size', '/config/colour']);
      const unknown = wrong.body.error.issues.find((i: { path: string }) => i.path === '/config/colour');
      expect(unknown.hint).toContain('batch_size');
    });

    it('is 404 for an unknown block type, with a hint', async () => {
      const res = await t.call('POST', '/v1/blocks', { name: 'Mystery', block_type: 'teleport_rows', config: {} });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'not_found:block_type', hint: expect.stringContaining('/v1/block-types') });

      const version = await t.call('POST', '/v1/blocks', { name: 'Future', block_type: 'postgres_incremental_extract@9', config: { table: 'x' } });
      expect(version.status).toBe(404);
      expect(version.body.error.hint).toContain('versions 1');
    });

    it('refuses trigger block types: they belong to a pipeline', async () => {
      const res = await t.call('POST', '/v1/blocks', { name: 'Every hour', block_type: 'cron_schedule', config: { cron: '0 * * * *' } });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid:block_type', hint: expect.stringContaining('schedule') });
    });

    it('lists blocks oldest first, filtered by type and paged', async () => {
      const a = await place('S3 drops', 's3_files', { bucket: 'raw-data', endpoint_url: 'http://garage:3900' });
      const b = await place('More S3 drops', 's3_files', { bucket: 'raw-data', endpoint_url: 'http://garage:3900', prefix: 'more/' });
      const all = await t.call('GET', '/v1/blocks');
      expect(all.status).toBe(200);
      const ids = all.body.blocks.map((x: { id: string }) => x.id);
      expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(b.id));

      const s3 = await t.call('GET', '/v1/blocks?block_type=s3_files');
      expect(s3.body.blocks.map((x: { id: string }) => x.id)).toEqual([a.id, b.id]);
      const second = await t.call('GET', '/v1/blocks?block_type=s3_files&limit=1&offset=1');
      expect(second.body.blocks.map((x: { id: string }) => x.id)).toEqual([b.id]);

      const bad = await t.call('GET', '/v1/blocks?limit=0');
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues).toEqual([expect.objectContaining({ path: '/query/limit' })]);
    });

    it('renames a block and replaces its config, validating the new config', async () => {
      const block = await extract('Before');
      const renamed = await t.call('PATCH', `/v1/blocks/${block.id}`, { name: 'After' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: block.id, name: 'After', config: { table: 'public.orders' }, block_type: 'postgres_incremental_extract@1' });

      const reconfigured = await t.call('PATCH', `/v1/blocks/${block.id}`, { config: { table: 'public.invoices', batch_size: 10 } });
      expect(reconfigured.status).toBe(200);
      expect(reconfigured.body).toMatchObject({ name: 'After', config: { table: 'public.invoices', batch_size: 10 } });

      const invalid = await t.call('PATCH', `/v1/blocks/${block.id}`, { config: { batch_size: 10 } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('invalid:config');
      expect(invalid.body.error.issues).toEqual([expect.objectContaining({ path: '/config/table', hint: expect.any(String) })]);
      // Nothing changed.
      expect((await t.call('GET', `/v1/blocks/${block.id}`)).body.config).toEqual({ table: 'public.invoices', batch_size: 10 });

      const unknownField = await t.call('PATCH', `/v1/blocks/${block.id}`, { block_type: 's3_files' });
      expect(unknownField.status).toBe(400);
      expect(unknownField.body.error.issues[0]).toMatchObject({ code: 'unknown_field', message: expect.stringContaining('block_type') });
    });

    it('is 404 for an unknown block on get, patch and delete; 400 for a malformed id', async () => {
      for (const [method, body] of [['GET', undefined], ['PATCH', { name: 'x' }], ['DELETE', undefined]] as const) {
        const res = await t.call(method, `/v1/blocks/${MISSING}`, body);
        expect(res.status, method).toBe(404);
        expect(res.body.error.code).toBe('not_found:block');
      }
      const malformed = await t.call('GET', '/v1/blocks/42');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.issues).toEqual([expect.objectContaining({ path: '/param/id' })]);
    });

    it('deletes a block', async () => {
      const block = await extract('Doomed');
      const res = await t.call('DELETE', `/v1/blocks/${block.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: expect.any(String) });
      expect((await t.call('GET', `/v1/blocks/${block.id}`)).status).toBe(404);
    });
  });

  describe('edges', () => {
    it('connects an output to an input of the same type', async () => {
      const source = await extract();
      const sink = await load();
      const res = await connect(source.id, 'rows', sink.id, 'rows');
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        source_block_id: source.id,
        source_port: 'rows',
        target_block_id: sink.id,
        target_port: 'rows',
        owner_id: LOCAL_PRINCIPAL.userId,
        org_id: LOCAL_PRINCIPAL.orgId,
        created_at: expect.any(String),
      });
      expect((await t.call('GET', `/v1/edges/${res.body.id}`)).body).toEqual(res.body);
      const touching = await t.call('GET', `/v1/edges?block_id=${sink.id}`);
      expect(touching.body.edges).toEqual([res.body]);
    });

    it('names the unknown port and lists the ports there are', async () => {
      const source = await extract();
      const sink = await load();
      const badSource = await connect(source.id, 'row', sink.id, 'rows');
      expect(badSource.status).toBe(400);
      expect(badSource.body.error.code).toBe('invalid:edge');
      expect(badSource.body.error.issues).toEqual([expect.objectContaining({ path: '/source_port', hint: expect.stringContaining('"rows" (table)') })]);

      const badTarget = await connect(source.id, 'rows', sink.id, 'input');
      expect(badTarget.status).toBe(400);
      expect(badTarget.body.error.issues).toEqual([expect.objectContaining({ path: '/target_port', hint: expect.stringContaining('"rows" (table)') })]);

      // An input is not an output: the sink's "rows" is not a source port.
      const backwards = await connect(sink.id, 'rows', source.id, 'rows');
      expect(backwards.status).toBe(400);
      const paths = backwards.body.error.issues.map((i: { path: string }) => i.path).sort();
      expect(paths).toEqual(['/source_port', '/target_port']);
    });

    it('refuses ports of different types', async () => {
      const files = await place('Dropped files', 's3_files', { bucket: 'raw-data', endpoint_url: 'http://garage:3900' });
      const sink = await load();
      const res = await connect(files.id, 'files', sink.id, 'rows');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:edge');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'incompatible_ports', message: expect.stringContaining('files') })]);
    });

    it('refuses a block feeding itself', async () => {
      const dbt = await place('dbt models', 'dbt_run', { project_dir: '/dbt' });
      const res = await connect(dbt.id, 'models', dbt.id, 'sources');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:edge');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'cycle' })]);
      expect((await t.call('GET', `/v1/edges?block_id=${dbt.id}`)).body.edges).toEqual([]);
    });

    it('refuses the same edge twice (409)', async () => {
      const source = await extract();
      const sink = await load();
      expect((await connect(source.id, 'rows', sink.id, 'rows')).status).toBe(201);
      const again = await connect(source.id, 'rows', sink.id, 'rows');
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('conflict:edge');
      expect((await t.call('GET', `/v1/edges?block_id=${sink.id}`)).body.edges).toHaveLength(1);
    });

    it('is 404 when an end is not a block, naming which', async () => {
      const source = await extract();
      const res = await connect(source.id, 'rows', MISSING, 'rows');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found:block');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/target_block_id' })]);
    });

    it('accepts block ids in upper case, as the UUID schema does', async () => {
      const source = await extract();
      const sink = await load();
      const res = await connect(source.id.toUpperCase(), 'rows', sink.id.toUpperCase(), 'rows');
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ source_block_id: source.id, target_block_id: sink.id });
    });

    it('deletes an edge, then it is gone', async () => {
      const source = await extract();
      const sink = await load();
      const created = await connect(source.id, 'rows', sink.id, 'rows');
      const res = await t.call('DELETE', `/v1/edges/${created.body.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: expect.any(String) });
      expect((await t.call('GET', `/v1/edges/${created.body.id}`)).status).toBe(404);
      const again = await t.call('DELETE', `/v1/edges/${created.body.id}`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('not_found:edge');
    });

    it('deleting a block deletes its edges', async () => {
      const source = await extract();
      const sink = await load();
      const other = await load('Other load');
      const doomed = await connect(source.id, 'rows', sink.id, 'rows');
      const kept = await connect(source.id, 'rows', other.id, 'rows');
      expect((await t.call('DELETE', `/v1/blocks/${sink.id}`)).status).toBe(200);
      expect((await t.call('GET', `/v1/edges/${doomed.body.id}`)).status).toBe(404);
      expect((await t.call('GET', `/v1/edges/${kept.body.id}`)).status).toBe(200);
      expect((await t.call('GET', `/v1/edges?block_id=${source.id}`)).body.edges.map((e: { id: string }) => e.id)).toEqual([kept.body.id]);
    });
  });

  it("another org's blocks are invisible: not listed, not found, not connectable, not usable in a pipeline", async () => {
    await ensureLocalPrincipal(t.db, STRANGER);
    const theirs = await t.services.blocks.create(STRANGER, { name: 'Theirs', block_type: 'postgres_incremental_extract', config: { table: 'secret' } });
    const sink = await load();

    expect((await t.call('GET', `/v1/blocks/${theirs.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/v1/blocks/${theirs.id}`)).status).toBe(404);
    const listed = await t.call('GET', '/v1/blocks?limit=500');
    expect(listed.body.blocks.map((b: { id: string }) => b.id)).not.toContain(theirs.id);
    const edge = await connect(theirs.id, 'rows', sink.id, 'rows');
    expect(edge.status).toBe(404);
    expect(edge.body.error.issues).toEqual([expect.objectContaining({ path: '/source_block_id' })]);
    const pipeline = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'stolen', block_ids: [theirs.id], configuration: {} });
    expect(pipeline.status).toBe(404);
    expect(pipeline.body.error.issues).toEqual([expect.objectContaining({ path: '/block_ids/0' })]);
    // Still there for its owner.
    expect((await t.services.blocks.get(STRANGER, theirs.id)).name).toBe('Theirs');
  });
});
