import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { migrate, MIGRATIONS } from '../../src/adapters/store/migrate.ts';
import { openPgliteDb } from '../../src/adapters/store/pglite-db.ts';
import { openPostgresDb } from '../../src/adapters/store/postgres-db.ts';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL, type Principal } from '../../src/auth/principal.ts';
import { PipelineRepo } from '../../src/pipelines/pipeline-repo.ts';
import { freshDb, freshDbUrl, STORE_KINDS, type StoreKind } from '../support/databases.ts';
import { spec } from './fixtures.ts';

/** What the store appends to a slug already taken: "_" and md5(id)'s first six hex digits, within 40 characters. */
const withId = (slug: string, id: string) => `${slug.slice(0, 33).replace(/_+$/, '')}_${createHash('md5').update(id).digest('hex').slice(0, 6)}`;

// The same rule on both real stores: the trigger and the backfill are SQL, and PGlite and
// Postgres must make the same slug of the same name.
describe.each(STORE_KINDS)('slugs on %s', (kind) => {
  let db: Db;
  let repo: PipelineRepo;
  beforeAll(async () => {
    db = await freshDb(kind);
    await ensureLocalPrincipal(db);
    repo = new PipelineRepo(db);
  });
  afterAll(() => db.close());

  const create = async (name: string, principal: Principal = LOCAL_PRINCIPAL) => (await repo.create(principal, spec(name), { kind: 'spec' }))!;

  it.each([
    ['Sales Sync', 'sales_sync'],
    ['  --Orders: EU/US (v2)--  ', 'orders_eu_us_v2'],
    ['Café Über → ClickHouse', 'caf_ber_clickhouse'],
    ['İstanbul KELVIN Ⅻ', 'stanbul_kelvin'],
    ['2024 report', 'p_2024_report'],
    ['_42', 'p_42'],
    ['!!!', 'pipeline'],
    ['日本語のパイプライン', 'pipeline_x'],
    [`Very ${'long '.repeat(20)}name`, 'very_long_long_long_long_long_long_long'],
    ['a'.repeat(39) + '-b', 'a'.repeat(39)],
  ])('makes a slug of %j', async (name, expected) => {
    const row = await create(name);
    // "pipeline" is taken by "!!!" above by the time the Japanese name comes: it gets the id's digits.
    expect(row.slug).toBe(expected === 'pipeline_x' ? withId('pipeline', row.id) : expected);
    expect(row.slug.length).toBeLessThanOrEqual(40);
    expect(row.slug).toMatch(/^[a-z][a-z0-9_]*[a-z0-9]$|^[a-z]$/);
    expect(row.slug).not.toContain('__');
    expect(row.org_slug).toBe('local');
  });

  it('gives a second pipeline whose name makes the same slug the id\'s digits, even at 40 characters', async () => {
    const first = await create('Inventory sync');
    const second = await create('inventory-SYNC!');
    expect(first.slug).toBe('inventory_sync');
    expect(second.slug).toBe(withId('inventory_sync', second.id));
    const long = `Quarterly ${'revenue '.repeat(6)}`;
    const [a, b] = [await create(long), await create(`${long}!`)];
    expect(a.slug).toHaveLength(40);
    expect(b.slug).toBe(withId(a.slug, b.id));
    expect(b.slug.length).toBeLessThanOrEqual(40);
  });

  it('keeps the slug through a rename, and refuses to change it directly', async () => {
    const row = await create('Before rename');
    const renamed = await repo.appendVersion(LOCAL_PRINCIPAL, row.id, 1, spec('After rename'), { kind: 'replace' });
    expect(renamed).toMatchObject({ name: 'After rename', slug: 'before_rename', org_slug: 'local' });
    expect(await repo.get(LOCAL_PRINCIPAL, row.id)).toMatchObject({ slug: 'before_rename' });
    // The old name's slug stays taken: a new pipeline with the old name gets another.
    expect((await create('Before rename')).slug).not.toBe('before_rename');
    await expect(db.query(`UPDATE pipelines SET slug = 'other' WHERE id = $1`, [row.id])).rejects.toThrow(/never changes/);
    await expect(db.query(`UPDATE orgs SET slug = 'other' WHERE id = $1`, [LOCAL_PRINCIPAL.orgId])).rejects.toThrow(/never changes/);
  });

  it('keeps pipeline slugs unique per org and org slugs unique everywhere', async () => {
    const other = await ensureLocalPrincipal(db, { orgId: randomUUID(), userId: randomUUID() });
    const [otherOrg] = await db.query<{ slug: string }>('SELECT slug FROM orgs WHERE id = $1', [other.orgId]);
    // Its name is "local" too (ensureLocalPrincipal's), so it gets the id's digits.
    expect(otherOrg!.slug).toBe(withId('local', other.orgId));
    const there = await create('Sales Sync', other);
    expect(there).toMatchObject({ slug: 'sales_sync', org_slug: otherOrg!.slug });
    expect((await repo.list(other)).map((p) => p.org_slug)).toEqual([otherOrg!.slug]);
  });

  it.each([
    ['Acme', 'acme'],
    ['42 Labs', 'org_42_labs'],
    ['???', 'org'],
  ])('makes an org slug of %j', async (name, expected) => {
    const id = randomUUID();
    const [row] = await db.query<{ slug: string }>('INSERT INTO orgs (id, name) VALUES ($1, $2) RETURNING slug', [id, name]);
    expect(row!.slug).toBe(expected);
  });

  it('refuses a slug given by hand that breaks the shape names rely on', async () => {
    for (const slug of ['Sales', 'sales__eu', 'sales_', '1sales', 'a'.repeat(41)]) {
      await expect(db.query(`INSERT INTO orgs (id, name, slug) VALUES ($1, 'x', $2)`, [randomUUID(), slug]), slug).rejects.toThrow(/orgs_slug_shape/);
    }
  });

  it('gives each of two pipelines created at once with the same slug a slug of its own', async () => {
    // The first holds its new row uncommitted while the second's trigger finds the slug free; on
    // Postgres the second then waits on the unique index, is refused once the first commits, and
    // tries again (PGlite runs one transaction at a time, so there the second simply comes after).
    let second: Promise<unknown> | undefined;
    const first = await db.transaction(async (tx) => {
      const row = await new PipelineRepo(tx).create(LOCAL_PRINCIPAL, spec('Raced'), { kind: 'spec' });
      second = create('raced!');
      await new Promise((resolve) => setTimeout(resolve, 300));
      return row!;
    });
    const other = (await second) as Awaited<ReturnType<typeof create>>;
    expect(first.slug).toBe('raced');
    expect(other).toMatchObject({ name: 'raced!', slug: withId('raced', other.id) });
  });
});

describe.each(STORE_KINDS)('the slug backfill on %s', (kind) => {
  let db: Db;
  beforeAll(async () => {
    db = await unmigrated(kind);
    // The store as it was before slugs.
    await db.exec(`CREATE TABLE schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const migration of MIGRATIONS.filter((m) => m.id < '0005')) {
      await db.exec(migration.sql);
      await db.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
    }
  });
  afterAll(() => db.close());

  it('gives rows made before the migration the slugs the triggers would have, in order of creation', async () => {
    const orgs = { local: randomUUID(), clash: randomUUID(), digits: randomUUID() };
    const user = randomUUID();
    await db.query(
      `INSERT INTO orgs (id, name, created_at) VALUES ($1, 'Local', '2024-01-01'), ($2, 'local!', '2024-01-02'), ($3, '42', '2024-01-03')`,
      [orgs.local, orgs.clash, orgs.digits],
    );
    await db.query(`INSERT INTO users (id, org_id, name) VALUES ($1, $2, 'u')`, [user, orgs.local]);
    const pipeline = async (org: string, name: string, createdAt: string) => {
      const id = randomUUID();
      await db.query(`INSERT INTO pipelines (id, org_id, owner_id, name, current_version, created_at) VALUES ($1, $2, $3, $4, 1, $5)`, [id, org, user, name, createdAt]);
      return id;
    };
    // Inserted out of order: the older one keeps the plain slug.
    const later = await pipeline(orgs.local, 'Sales Sync', '2024-02-02');
    const older = await pipeline(orgs.local, 'sales-sync', '2024-02-01');
    const elsewhere = await pipeline(orgs.digits, 'Sales Sync', '2024-02-03');
    const odd = await pipeline(orgs.local, '9 — Ünïcode', '2024-02-04');

    expect(await migrate(db)).toContain('0005-slugs');

    const slugOf = async (table: 'orgs' | 'pipelines', id: string) => (await db.query<{ slug: string }>(`SELECT slug FROM ${table} WHERE id = $1`, [id]))[0]!.slug;
    expect(await slugOf('orgs', orgs.local)).toBe('local');
    expect(await slugOf('orgs', orgs.clash)).toBe(withId('local', orgs.clash));
    expect(await slugOf('orgs', orgs.digits)).toBe('org_42');
    expect(await slugOf('pipelines', older)).toBe('sales_sync');
    expect(await slugOf('pipelines', later)).toBe(withId('sales_sync', later));
    expect(await slugOf('pipelines', elsewhere)).toBe('sales_sync');
    expect(await slugOf('pipelines', odd)).toBe('p_9_n_code');

    // And from now on the trigger carries on with the same rule.
    const repo = new PipelineRepo(db);
    const next = await repo.create({ orgId: orgs.local, userId: user }, spec('SALES SYNC'), { kind: 'spec' });
    expect(next).toMatchObject({ slug: withId('sales_sync', next!.id), org_slug: 'local' });
  });
});

async function unmigrated(kind: StoreKind): Promise<Db> {
  return kind === 'pglite' ? openPgliteDb() : openPostgresDb(await freshDbUrl());
}
