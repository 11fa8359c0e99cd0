import type { Db } from './db.ts';

/** Whether the store answers, for GET /health: one cheap query, nothing else of the store. */
export class StoreHealth {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  get kind(): Db['kind'] {
    return this.db.kind;
  }

  /** The number of latest block types; throws when the store does not answer. */
  async check(): Promise<{ block_types: number }> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM block_types WHERE is_latest');
    return { block_types: row?.n ?? 0 };
  }
}
