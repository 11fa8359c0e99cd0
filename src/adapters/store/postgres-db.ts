import pg from 'pg';
import type { Db } from './db.ts';

type Queryable = pg.Pool | pg.PoolClient;

/** Shared by a pool's handle and its transactions: queries not yet settled, and whether closing began. */
type InFlight = Set<Promise<unknown>> & { closing?: boolean };

class PostgresDb implements Db {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly conn: Queryable;
  private readonly inTransaction: boolean;
  private readonly inFlight: InFlight;

  constructor(pool: pg.Pool, conn: Queryable = pool, inTransaction = false, inFlight: InFlight = new Set()) {
    this.pool = pool;
    this.conn = conn;
    this.inTransaction = inTransaction;
    this.inFlight = inFlight;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.track(() => this.conn.query(sql, params));
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.track(() => this.conn.query(sql));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const client = await this.track(() => this.pool.connect());
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresDb(this.pool, client, true, this.inFlight));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Lets running queries finish first: pg never settles a query that is in flight when its pool
   * ends, which would leave whoever awaits it (a deploy worker being stopped) hanging forever.
   */
  async close(): Promise<void> {
    this.inFlight.closing = true;
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    await this.pool.end();
  }

  /** Starts `start` unless closing began, so nothing reaches the pool once it is ending. */
  private track<R>(start: () => Promise<R>): Promise<R> {
    if (this.inFlight.closing) return Promise.reject(new Error('the store is closed'));
    const promise = start();
    this.inFlight.add(promise);
    promise.then(
      () => this.inFlight.delete(promise),
      () => this.inFlight.delete(promise),
    );
    return promise;
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
