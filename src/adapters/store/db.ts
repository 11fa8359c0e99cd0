/**
 * The store's one seam: SQL in, rows out, and transactions. PGlite and Postgres both implement
 * it, and everything above (repositories, migrations) is written once against it.
 */
export interface Db {
  readonly kind: 'pglite' | 'postgres';
  /** One parameterised statement ($1, $2, …); rows come back with jsonb parsed and timestamps as Dates. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction: everything it wrote commits together, or nothing does when it
   * throws. Called inside a transaction, it joins the outer one.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
