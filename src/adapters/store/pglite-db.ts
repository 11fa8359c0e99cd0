import { PGlite, type Transaction } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import type { Db } from './db.ts';

type Queryable = Pick<PGlite, 'query' | 'exec'> | Transaction;

class PgliteDb implements Db {
  readonly kind = 'pglite';
  private readonly pg: PGlite;
  private readonly conn: Queryable;
  private readonly inTransaction: boolean;

  constructor(pg: PGlite, conn: Queryable = pg, inTransaction = false) {
    this.pg = pg;
    this.conn = conn;
    this.inTransaction = inTransaction;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.conn.query<T>(sql, params);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.conn.exec(sql);
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.pg.transaction((tx) => fn(new PgliteDb(this.pg, tx, true)));
  }

  close(): Promise<void> {
    return this.pg.close();
  }
}

/** Embedded Postgres (WASM). `dataDir` undefined keeps the database in memory (tests, benchmarks). */
export async function openPgliteDb(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir);
  return new PgliteDb(pg);
}
