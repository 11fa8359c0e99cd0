import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { CatalogRepo } from '../../src/catalog/catalog-repo.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { CodeRepoStore } from '../../src/code-repos/code-repo-store.ts';
import { freshDb } from '../support/databases.ts';

describe('CodeRepoStore', () => {
  let db: Db;
  let store: CodeRepoStore;
  beforeAll(async () => {
    db = await freshDb('pglite');
    await ensureLocalPrincipal(db);
    store = new CodeRepoStore(db);
  });
  afterAll(() => db.close());

  it('hands out package files by their path from a shard root, each package stored once', async () => {
    const repo = await store.claimRepo(LOCAL_PRINCIPAL.orgId, 'file:///x/etl-blocks.git', ['etl_blocks']);
    const pkg = 'constellation_repo_etl_blocks_0123456789ab';
    await store.savePackage({ package: pkg, orgId: LOCAL_PRINCIPAL.orgId, repoId: repo.id, commit: '0123456789ab'.padEnd(40, '0'), files: { '__init__.py': '', 'helpers/io.py': 'X = 1\n' }, requirements: [] });
    // The same commit compiled again keeps what was stored first.
    await store.savePackage({ package: pkg, orgId: LOCAL_PRINCIPAL.orgId, repoId: repo.id, commit: '0123456789ab'.padEnd(40, '0'), files: { 'other.py': '' }, requirements: [] });
    expect(await store.packageFiles([pkg, 'constellation_repo_unknown_000000000000'])).toEqual({
      [`${pkg}/__init__.py`]: '',
      [`${pkg}/helpers/io.py`]: 'X = 1\n',
    });
    expect(await store.packageFiles([])).toEqual({});
  });

  it('gives a repository the first free namespace, and keeps it', async () => {
    const other = '10000000-0000-4000-8000-0000000000aa';
    await db.query(`INSERT INTO orgs (id, name) VALUES ($1, 'other')`, [other]);
    const theirs = await store.claimRepo(other, 'file:///y/etl-blocks.git', ['etl_blocks', 'etl_blocks_beef']);
    expect(theirs.namespace).toBe('etl_blocks_beef');
    expect((await store.claimRepo(other, 'file:///y/etl-blocks.git', ['something_else'])).namespace).toBe('etl_blocks_beef');
  });

  it('registers a compiled version only when it is new: a version is never rewritten', async () => {
    const catalog = new CatalogRepo(db);
    const base = loadManifests().find((m) => m.slug === 'duckdb_load')!;
    const v1 = { ...base, slug: 'race_blocks__load', name: 'first' };
    await catalog.upsert([v1], LOCAL_PRINCIPAL.orgId, { onlyNew: true });
    await expect(catalog.upsert([{ ...v1, name: 'second' }, { ...v1, version: 2, name: 'second' }], LOCAL_PRINCIPAL.orgId, { onlyNew: true })).rejects.toMatchObject({ code: 'conflict:block_type_version' });
    expect((await catalog.lookup(LOCAL_PRINCIPAL.orgId, ['race_blocks__load'])).map((t) => [t.version, t.name])).toEqual([[1, 'first']]);
  });
});
