import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { openDb } from '../../src/adapters/store/open-db.ts';

export type StoreKind = 'pglite' | 'postgres';
export const STORE_KINDS: StoreKind[] = ['pglite', 'postgres'];

/** A fresh, migrated, empty database of the given kind: in-memory PGlite, or a new database on the test server. */
export async function freshDb(kind: StoreKind): Promise<Db> {
  if (kind === 'pglite') return openDb({});
  return openDb({ databaseUrl: await freshDbUrl() });
}

/** A new, empty database on the test server (not yet migrated). */
export async function freshDbUrl(): Promise<string> {
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  const name = `test_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}
