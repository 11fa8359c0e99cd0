import { randomUUID } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';
import type { Principal } from '../auth/principal.ts';

export interface BlockRow {
  id: string;
  org_id: string;
  owner_id: string;
  name: string;
  block_type: string;
  block_type_version: number;
  config: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export interface EdgeRow {
  id: string;
  org_id: string;
  owner_id: string;
  source_block_id: string;
  source_port: string;
  target_block_id: string;
  target_port: string;
  created_at: Date;
}

export type NewBlock = Pick<BlockRow, 'name' | 'block_type' | 'block_type_version' | 'config'>;
export type NewEdge = Pick<EdgeRow, 'source_block_id' | 'source_port' | 'target_block_id' | 'target_port'>;

/** The core's placed blocks and the edges between their ports, scoped to the caller's org. */
export class BlockRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async createBlock(principal: Principal, block: NewBlock): Promise<BlockRow> {
    const [row] = await this.db.query<BlockRow>(
      `INSERT INTO blocks (id, org_id, owner_id, name, block_type, block_type_version, config)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING *`,
      [randomUUID(), principal.orgId, principal.userId, block.name, block.block_type, block.block_type_version, JSON.stringify(block.config)],
    );
    return row!;
  }

  async updateBlock(principal: Principal, id: string, changes: Partial<Pick<BlockRow, 'name' | 'config'>>): Promise<BlockRow | null> {
    const [row] = await this.db.query<BlockRow>(
      `UPDATE blocks SET name = coalesce($3, name), config = coalesce($4::jsonb, config), updated_at = now()
       WHERE id = $1 AND org_id = $2 RETURNING *`,
      [id, principal.orgId, changes.name ?? null, changes.config ? JSON.stringify(changes.config) : null],
    );
    return row ?? null;
  }

  async getBlocks(principal: Principal, ids: string[]): Promise<BlockRow[]> {
    if (ids.length === 0) return [];
    return this.db.query<BlockRow>(`SELECT * FROM blocks WHERE id = ANY($1::uuid[]) AND org_id = $2`, [ids, principal.orgId]);
  }

  async listBlocks(principal: Principal, opts: { blockType?: string; limit: number; offset: number }): Promise<BlockRow[]> {
    return this.db.query<BlockRow>(
      `SELECT * FROM blocks WHERE org_id = $1 AND ($2::text IS NULL OR block_type = $2)
       ORDER BY created_at, id LIMIT $3 OFFSET $4`,
      [principal.orgId, opts.blockType ?? null, opts.limit, opts.offset],
    );
  }

  /** Deletes the block; its edges go with it (ON DELETE CASCADE). */
  async deleteBlock(principal: Principal, id: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM blocks WHERE id = $1 AND org_id = $2 RETURNING id`, [id, principal.orgId]);
    return rows.length > 0;
  }

  /** Null when the same edge already exists. */
  async createEdge(principal: Principal, edge: NewEdge): Promise<EdgeRow | null> {
    const rows = await this.db.query<EdgeRow>(
      `INSERT INTO edges (id, org_id, owner_id, source_block_id, source_port, target_block_id, target_port)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (source_block_id, source_port, target_block_id, target_port) DO NOTHING RETURNING *`,
      [randomUUID(), principal.orgId, principal.userId, edge.source_block_id, edge.source_port, edge.target_block_id, edge.target_port],
    );
    return rows[0] ?? null;
  }

  async getEdge(principal: Principal, id: string): Promise<EdgeRow | null> {
    const rows = await this.db.query<EdgeRow>(`SELECT * FROM edges WHERE id = $1 AND org_id = $2`, [id, principal.orgId]);
    return rows[0] ?? null;
  }

  /** Edges touching `blockId`, or all of the org's when omitted. */
  async listEdges(principal: Principal, blockId?: string): Promise<EdgeRow[]> {
    return this.db.query<EdgeRow>(
      `SELECT * FROM edges WHERE org_id = $1 AND ($2::uuid IS NULL OR source_block_id = $2 OR target_block_id = $2)
       ORDER BY created_at, id`,
      [principal.orgId, blockId ?? null],
    );
  }

  /** Edges whose both ends are among `blockIds`: the wiring of a pipeline built from blocks. */
  async edgesAmong(principal: Principal, blockIds: string[]): Promise<EdgeRow[]> {
    return this.db.query<EdgeRow>(
      `SELECT * FROM edges WHERE org_id = $1 AND source_block_id = ANY($2::uuid[]) AND target_block_id = ANY($2::uuid[])
       ORDER BY created_at, id`,
      [principal.orgId, blockIds],
    );
  }

  async deleteEdge(principal: Principal, id: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM edges WHERE id = $1 AND org_id = $2 RETURNING id`, [id, principal.orgId]);
    return rows.length > 0;
  }
}
