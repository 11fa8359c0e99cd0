import pg from 'pg';
import type { Db } from './db.ts';

type Queryable = pg.Pool | pg.PoolClient;

class PostgresDb implements Db {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly conn: Queryable;
  private readonly inTransaction: boolean;

  constructor(pool: pg.Pool, conn: Queryable = pool, inTransaction = false) {
    this.pool = pool;
    this.conn = conn;
    this.inTransaction = inTransaction;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.conn.query(sql, params);
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.conn.query(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresDb(this.pool, client, true));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Any Postgres over a connection string — a Supabase project's included (add `?sslmode=require`). */
export async function openPostgresDb(connectionString: string, maxConnections = 10): Promise<Db> {
  const pool = new pg.Pool({ connectionString, max: maxConnections });
  // Fail at start-up, not on the first request, when the server is unreachable.
  const client = await pool.connect();
  client.release();
  return new PostgresDb(pool);
}
