import { join } from 'node:path';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPgliteDb } from './pglite-db.ts';
import { openPostgresDb } from './postgres-db.ts';

/** Postgres when a connection string is given, else embedded PGlite under `dataDir`; migrated. */
export async function openDb(opts: { databaseUrl?: string; dataDir?: string }): Promise<Db> {
  const db = opts.databaseUrl
    ? await openPostgresDb(opts.databaseUrl)
    : await openPgliteDb(opts.dataDir ? join(opts.dataDir, 'pglite') : undefined);
  await migrate(db);
  return db;
}
