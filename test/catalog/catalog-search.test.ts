import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { CatalogRepo } from '../../src/catalog/catalog-repo.ts';
import { STORE_KINDS } from '../support/databases.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe.each(STORE_KINDS)('block catalog search on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    // Reads the catalog revision on every search, so another instance's write shows at once.
    t = await createTestApp(kind, { catalogFreshnessMs: 0 });
  });
  afterAll(() => t.close());

  const slugs = async (query: string) => (await t.call('GET', `/v1/block-types?${query}`)).body.results.map((r: any) => r.block_type.slug);

  it('ranks the block whose name matches above ones that only mention the words', async () => {
    const found = await slugs('q=postgres+incremental');
    expect(found[0]).toBe('postgres_incremental_extract');
  });

  it('matches prefixes and tags, so a partly typed word finds the block', async () => {
    expect(await slugs('q=clickh')).toContain('clickhouse_replacing_merge_tree_load');
    expect(await slugs('q=upsert')).toContain('clickhouse_replacing_merge_tree_load');
    expect(await slugs('q=upsert')).toContain('iceberg_table_write');
    expect((await slugs('q=iceberg+sql+catalog')).slice(0, 2).sort()).toEqual(['iceberg_table_read', 'iceberg_table_write']);
  });

  it('ranks blocks matching more of a sentence first instead of finding nothing', async () => {
    const found = await slugs('q=copy+new+rows+from+postgres+into+clickhouse');
    expect(found.slice(0, 2).sort()).toEqual(['clickhouse_replacing_merge_tree_load', 'postgres_incremental_extract']);
  });

  it('filters by category', async () => {
    const body = (await t.call('GET', '/v1/block-types?category=trigger')).body;
    expect(body.results.length).toBeGreaterThanOrEqual(4);
    for (const r of body.results) expect(r.block_type.category).toBe('trigger');
  });

  it('filters by input and output port type', async () => {
    const takesFiles = (await t.call('GET', '/v1/block-types?input_type=files')).body.results;
    for (const r of takesFiles) expect(r.block_type.inputs.some((p: any) => p.type === 'files')).toBe(true);
    expect(takesFiles.map((r: any) => r.block_type.slug)).toContain('files_to_table');
    const makesFiles = await slugs('output_type=files');
    expect(makesFiles).toEqual(expect.arrayContaining(['s3_files', 's3_files_write']));
    expect(await slugs('q=load&input_type=table&category=sink')).toContain('duckdb_load');
    expect(await slugs('q=duckdb&input_type=tables&output_type=table&category=source')).toContain('duckdb_table_read');
  });

  it('answers an empty result with a hint instead of an error', async () => {
    const res = await t.call('GET', '/v1/block-types?q=xylophone');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([]);
    expect(res.body.hint).toMatch(/No block type matches "xylophone"/);
    const filtered = await t.call('GET', '/v1/block-types?q=dbt&category=sink');
    expect(filtered.body.hint).toMatch(/category "sink".*drop the filters/);
  });

  it('treats tsquery syntax in the query as plain words', async () => {
    const res = await t.call('GET', `/v1/block-types?q=${encodeURIComponent("postgres & !(:* | ') <->")}`);
    expect(res.status).toBe(200);
    expect(res.body.results[0].block_type.slug).toBe('postgres_incremental_extract');
    const onlyPunctuation = await t.call('GET', `/v1/block-types?q=${encodeURIComponent('&|!')}`);
    expect(onlyPunctuation.body.results).toEqual([]);
  });

  it('gets a block type by slug (latest) and by slug@version, with its schema and ports', async () => {
    const latest = await t.call('GET', '/v1/block-types/postgres_incremental_extract');
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ ref: 'postgres_incremental_extract@1', builtin: true, category: 'source' });
    expect(latest.body.config_schema.properties).toHaveProperty('created_at_column');
    expect(latest.body.config_schema.properties).toHaveProperty('updated_at_column');
    expect((await t.call('GET', '/v1/block-types/postgres_incremental_extract@1')).body).toEqual(latest.body);
  });

  it('404s an unknown block type, listing the versions that exist for a known slug', async () => {
    const unknown = await t.call('GET', '/v1/block-types/no_such_block');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found:block_type');
    const badVersion = await t.call('GET', '/v1/block-types/dbt_run@7');
    expect(badVersion.status).toBe(404);
    expect(badVersion.body.error.hint).toMatch(/versions 1/);
  });

  it('serves the newest version once a second one is published, keeping the old one addressable', async () => {
    const v1 = (await t.services.catalog.require(LOCAL_PRINCIPAL, 'duckdb_load@1')) as any;
    const { ref: _ref, builtin: _builtin, ...manifest } = v1;
    await t.services.catalogRepo.upsert([{ ...manifest, version: 2, name: 'DuckDB load (v2)' }]);
    expect((await t.call('GET', '/v1/block-types/duckdb_load')).body.ref).toBe('duckdb_load@2');
    expect((await t.call('GET', '/v1/block-types/duckdb_load@1')).body.name).toBe(v1.name);
    const hits = (await t.call('GET', '/v1/block-types?q=duckdb')).body.results.filter((r: any) => r.block_type.slug === 'duckdb_load');
    expect(hits.map((r: any) => r.block_type.version)).toEqual([2]);
  });

  it('finds what another instance wrote to the shared store on the next search', async () => {
    await t.call('GET', '/v1/block-types?q=warehouse'); // this instance has built its index
    const otherInstance = new CatalogRepo(t.db);
    const base = (await t.services.catalog.require(LOCAL_PRINCIPAL, 'duckdb_sql_transform')) as any;
    const { ref: _r, builtin: _b, ...manifest } = base;
    await otherInstance.upsert([{ ...manifest, slug: 'zanzibar_lakehouse_merge', name: 'Zanzibar lakehouse merge' }]);
    expect(await slugs('q=zanzibar')).toEqual(['zanzibar_lakehouse_merge']);
  });

  it('keeps org-owned block types to their org', async () => {
    const base = (await t.services.catalog.require(LOCAL_PRINCIPAL, 'duckdb_load')) as any;
    const { ref: _r, builtin: _b, ...manifest } = base;
    const otherOrg = '40000000-0000-4000-8000-000000000001';
    await t.db.query(`INSERT INTO orgs (id, name) VALUES ($1, 'other') ON CONFLICT DO NOTHING`, [otherOrg]);
    await t.services.catalogRepo.upsert([{ ...manifest, slug: 'private_quokka_load', name: 'Private quokka load', version: 1 }], otherOrg);
    expect(await slugs('q=quokka')).toEqual([]);
    const theirs = await t.services.catalog.search({ orgId: otherOrg, userId: LOCAL_PRINCIPAL.userId }, { query: 'quokka' });
    expect(theirs.results.map((h) => h.blockType.slug)).toEqual(['private_quokka_load']);
  });
});
