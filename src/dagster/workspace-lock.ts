import type { Db } from '../adapters/store/db.ts';

/**
 * Serializes changes to one environment's workspace: in this process with a promise chain, and
 * across processes with a Postgres advisory lock held for the change (workspace.yaml is rewritten
 * from the folders present, so two writers at once could each drop the other's location). `fn` gets
 * the transaction the lock is held in: store queries made under the lock go through it (PGlite
 * runs one transaction at a time, so a query on another handle would wait for the lock's end).
 */
export class WorkspaceLocks {
  private readonly db: Db;
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(db: Db) {
    this.db = db;
  }

  run<T>(environment: string, fn: (tx: Db) => T | Promise<T>): Promise<T> {
    const previous = this.tails.get(environment) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() =>
      this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`constellation:workspace:${environment}`]);
        return fn(tx);
      }),
    );
    this.tails.set(environment, next.catch(() => {}));
    return next;
  }
}
