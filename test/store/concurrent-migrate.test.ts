import { describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS } from '../../src/adapters/store/migrate.ts';
import { openPostgresDb } from '../../src/adapters/store/postgres-db.ts';
import { freshDbUrl } from '../support/databases.ts';

// Instances behind a load balancer start together on one new database: each migrates at start-up.
describe('migrations run by several instances at once on a fresh Postgres', () => {
  it('apply each migration exactly once and fail none of the instances', async () => {
    const url = await freshDbUrl();
    const instances = await Promise.all(Array.from({ length: 6 }, () => openPostgresDb(url, 2)));
    try {
      const results = await Promise.allSettled(instances.map((db) => migrate(db)));
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(failures).toEqual([]);
      // Between them the instances applied every migration once; the others found it applied.
      const applied = results.flatMap((r) => (r as PromiseFulfilledResult<string[]>).value);
      expect(applied.sort()).toEqual(MIGRATIONS.map((m) => m.id));
      const rows = await instances[0]!.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
    } finally {
      await Promise.all(instances.map((db) => db.close()));
    }
  });
});
