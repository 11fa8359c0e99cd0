import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { CatalogRepo } from '../../src/catalog/catalog-repo.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('catalog search freshness', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite', { catalogFreshnessMs: 60_000 });
  });
  afterAll(() => t.close());
  afterEach(() => vi.useRealTimers());

  const found = async (q: string) => (await t.services.catalog.search(LOCAL_PRINCIPAL, { query: q })).results.map((r) => r.blockType.slug);
  const manifestLike = async (slug: string, name: string) => {
    const { ref: _r, builtin: _b, ...m } = (await t.services.catalog.require(LOCAL_PRINCIPAL, 'duckdb_load')) as any;
    return { ...m, slug, name };
  };

  it('sees a write made through this process at once', async () => {
    await found('warehouse');
    await t.services.catalogRepo.upsert([await manifestLike('okapi_loader', 'Okapi loader')]);
    expect(await found('okapi')).toEqual(['okapi_loader']);
  });

  it("sees another instance's write once the freshness window has passed, not before", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await found('warehouse');
    await new CatalogRepo(t.db).upsert([await manifestLike('narwhal_loader', 'Narwhal loader')]);
    expect(await found('narwhal')).toEqual([]);
    vi.setSystemTime(Date.now() + 60_001);
    expect(await found('narwhal')).toEqual(['narwhal_loader']);
  });
});
