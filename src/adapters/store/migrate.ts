import type { Db } from './db.ts';
import foundation from './migrations/0001-foundation.ts';
import deployments from './migrations/0002-deployments.ts';
import chats from './migrations/0003-chats.ts';
import approvalTokens from './migrations/0004-approval-tokens.ts';
import slugs from './migrations/0005-slugs.ts';
import triggerStates from './migrations/0006-trigger-states.ts';
import principals from './migrations/0007-principals.ts';
import approvalRequests from './migrations/0008-approval-requests.ts';
import codeRepos from './migrations/0009-code-repos.ts';

/** Ordered, append-only. Both stores run exactly these. */
export const MIGRATIONS: ReadonlyArray<{ id: string; sql: string }> = [
  { id: '0001-foundation', sql: foundation },
  { id: '0002-deployments', sql: deployments },
  { id: '0003-chats', sql: chats },
  { id: '0004-approval-tokens', sql: approvalTokens },
  { id: '0005-slugs', sql: slugs },
  { id: '0006-trigger-states', sql: triggerStates },
  { id: '0007-principals', sql: principals },
  { id: '0008-approval-requests', sql: approvalRequests },
  { id: '0009-code-repos', sql: codeRepos },
];

// Any constant: instances starting together take turns instead of racing on DDL.
const MIGRATION_LOCK = 727_001;

/** Applies the migrations this database has not seen yet, each in its own transaction. */
export async function migrate(db: Db): Promise<string[]> {
  // Under the lock too: two `CREATE TABLE IF NOT EXISTS` racing on a fresh database both pass the
  // check and one fails on pg_type's unique index (seen with two instances starting together).
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied: string[] = [];
  for (const migration of MIGRATIONS) {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE id = $1', [migration.id]);
      if (seen.length) return;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      applied.push(migration.id);
    });
  }
  return applied;
}
