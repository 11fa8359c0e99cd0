import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { migrate, MIGRATIONS } from '../../src/adapters/store/migrate.ts';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { ChatRepo } from '../../src/chat/chat-repo.ts';
import { PipelineRepo } from '../../src/pipelines/pipeline-repo.ts';
import { freshDb, STORE_KINDS } from '../support/databases.ts';
import { spec } from './fixtures.ts';

// One contract, two real stores: embedded PGlite and a real PostgreSQL server.
describe.each(STORE_KINDS)('store contract on %s', (kind) => {
  let db: Db;
  beforeAll(async () => {
    db = await freshDb(kind);
    await ensureLocalPrincipal(db);
  });
  afterAll(() => db.close());

  it('migrates once: running the migrations again applies nothing', async () => {
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
  });

  it('round-trips jsonb, arrays and timestamps the same way', async () => {
    const [row] = await db.query<{ j: unknown; a: string[]; t: Date; n: number }>(
      `SELECT $1::jsonb AS j, $2::text[] AS a, now() AS t, 42::int AS n`,
      [JSON.stringify({ nested: { list: [1, 'two', null] } }), ['x', 'y']],
    );
    expect(row).toMatchObject({ j: { nested: { list: [1, 'two', null] } }, a: ['x', 'y'], n: 42 });
    expect(row!.t).toBeInstanceOf(Date);
  });

  it('commits a transaction as a whole', async () => {
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO orgs (id, name) VALUES ('10000000-0000-4000-8000-000000000001', 'a')`);
      await tx.query(`INSERT INTO orgs (id, name) VALUES ('10000000-0000-4000-8000-000000000002', 'b')`);
    });
    const rows = await db.query(`SELECT id FROM orgs WHERE name IN ('a', 'b')`);
    expect(rows).toHaveLength(2);
  });

  it('leaves nothing behind when a transaction fails half way', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO orgs (id, name) VALUES ('20000000-0000-4000-8000-000000000001', 'half')`);
        await tx.transaction(async (inner) => {
          await inner.query(`INSERT INTO orgs (id, name) VALUES ('20000000-0000-4000-8000-000000000002', 'half')`);
        });
        await tx.query(`INSERT INTO orgs (id, name) VALUES ('20000000-0000-4000-8000-000000000001', 'duplicate key')`);
      }),
    ).rejects.toThrow();
    expect(await db.query(`SELECT id FROM orgs WHERE name = 'half'`)).toEqual([]);
  });

  it('writes a pipeline and its first version together, or neither', async () => {
    const repo = new PipelineRepo(db);
    const created = await repo.create(LOCAL_PRINCIPAL, spec('contract pipeline'), { kind: 'spec' });
    expect(created?.current_version).toBe(1);
    expect(await repo.version(created!.id, 1)).toMatchObject({ spec: spec('contract pipeline') });

    // Same name: the unique constraint fails the transaction and no stray version row is left.
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pipeline_versions');
    expect(await repo.create(LOCAL_PRINCIPAL, spec('contract pipeline'), { kind: 'spec' })).toBeNull();
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pipeline_versions');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('refuses to change a stored version', async () => {
    const repo = new PipelineRepo(db);
    const created = await repo.create(LOCAL_PRINCIPAL, spec('immutable'), { kind: 'spec' });
    await expect(
      db.query(`UPDATE pipeline_versions SET spec = '{}'::jsonb WHERE pipeline_id = $1`, [created!.id]),
    ).rejects.toThrow(/immutable/);
  });

  it('appends versions only from the current one (optimistic concurrency)', async () => {
    const repo = new PipelineRepo(db);
    const created = await repo.create(LOCAL_PRINCIPAL, spec('concurrent'), { kind: 'spec' });
    const [a, b] = await Promise.all([
      repo.appendVersion(LOCAL_PRINCIPAL, created!.id, 1, spec('concurrent'), { kind: 'patch' }),
      repo.appendVersion(LOCAL_PRINCIPAL, created!.id, 1, spec('concurrent'), { kind: 'patch' }),
    ]);
    expect([a, b].filter((r) => r === 'stale')).toHaveLength(1);
    expect((await repo.versions(created!.id)).map((v) => v.version)).toEqual([2, 1]);
  });

  it('scopes rows to the org: another org sees none of them', async () => {
    const repo = new PipelineRepo(db);
    const created = await repo.create(LOCAL_PRINCIPAL, spec('scoped'), { kind: 'spec' });
    const stranger = { orgId: '30000000-0000-4000-8000-000000000001', userId: '30000000-0000-4000-8000-000000000002' };
    expect(await repo.get(stranger, created!.id)).toBeNull();
    expect(await repo.list(stranger)).toEqual([]);
    expect(await repo.delete(stranger, created!.id)).toBe(false);
  });

  it("creates a chat with its first message in one go, and stores nothing when the id is taken", async () => {
    const chats = new ChatRepo(db);
    const first = { id: 'm1', role: 'user' as const, parts: [{ type: 'text' as const, text: 'hello' }] };
    expect(await chats.create(LOCAL_PRINCIPAL, 'contract-chat', 'hello', first)).toBe(true);
    expect(await chats.messages('contract-chat')).toEqual([first]);
    expect((await chats.get(LOCAL_PRINCIPAL, 'contract-chat'))?.title).toBe('hello');
    // Taken by its owner (a retried first message) or by anyone else: nothing more is stored.
    const stranger = { orgId: '30000000-0000-4000-8000-000000000001', userId: '30000000-0000-4000-8000-000000000002' };
    expect(await chats.create(LOCAL_PRINCIPAL, 'contract-chat', 'again', { ...first, id: 'm2' })).toBe(false);
    expect(await chats.create(stranger, 'contract-chat', 'mine', { ...first, id: 'm3' })).toBe(false);
    expect(await chats.messages('contract-chat')).toEqual([first]);
    expect(await chats.get(stranger, 'contract-chat')).toBeNull();
  });
});
