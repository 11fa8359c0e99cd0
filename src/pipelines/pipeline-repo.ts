import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';
import { assertStorable } from '../input-guard.ts';
import { canonicalJson } from '../canonical-json.ts';
import type { Principal } from '../auth/principal.ts';
import type { PipelineSpec } from './spec-schema.ts';

export interface PipelineRow {
  id: string;
  org_id: string;
  owner_id: string;
  name: string;
  /** Made from the first name when the pipeline was created (see migration 0005); a rename keeps it. */
  slug: string;
  /** The org's slug, read with the row: with `slug`, it namespaces the pipeline in Dagster. */
  org_slug: string;
  description: string | null;
  current_version: number;
  created_at: Date;
  updated_at: Date;
}

export interface VersionRow {
  pipeline_id: string;
  version: number;
  spec: PipelineSpec;
  spec_hash: string;
  origin: Record<string, unknown>;
  created_by: string;
  created_at: Date;
}

/**
 * The spec's canonical JSON, hashed: the same spec always hashes the same. (Hashes stored before
 * the one canonical form differ only for specs with integer-like object keys, e.g. in dbt vars.)
 */
export function specHash(spec: unknown): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/**
 * The insert trigger picks a free slug, but two pipelines whose names make the same slug, created
 * at once, both see it free; the unique index then refuses one. Tried again, the trigger sees the
 * other's row and picks another: this is not a taken name.
 */
const isSlugRace = (error: unknown) => isUniqueViolation(error) && (error as { constraint?: string }).constraint === 'pipelines_org_id_slug_key';
const SLUG_RACE_TRIES = 3;

// Every row this repo returns carries its org's slug.
const WITH_ORG_SLUG = '*, (SELECT slug FROM orgs WHERE orgs.id = pipelines.org_id) AS org_slug';

/** Pipelines and their immutable versions, always scoped to the caller's org. */
export class PipelineRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Writes the pipeline and its first version together; null when the name is taken. */
  async create(principal: Principal, spec: PipelineSpec, origin: object): Promise<PipelineRow | null> {
    assertWritable(spec, origin);
    const id = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(async (tx) => {
          const [row] = await tx.query<PipelineRow>(
            `INSERT INTO pipelines (id, org_id, owner_id, name, description, current_version)
             VALUES ($1, $2, $3, $4, $5, 1) RETURNING ${WITH_ORG_SLUG}`,
            [id, principal.orgId, principal.userId, spec.name, spec.description ?? null],
          );
          await insertVersion(tx, id, 1, spec, origin, principal.userId);
          return row!;
        });
      } catch (error) {
        if (isSlugRace(error) && attempt < SLUG_RACE_TRIES) continue;
        if (isUniqueViolation(error)) return null;
        throw error;
      }
    }
  }

  /**
   * Appends a version when the pipeline is still at `expectedVersion` (optimistic concurrency:
   * two edits from the same base cannot both win). Returns the new row, or a reason it lost.
   */
  async appendVersion(
    principal: Principal,
    id: string,
    expectedVersion: number,
    spec: PipelineSpec,
    origin: object,
  ): Promise<PipelineRow | 'stale' | 'name_taken'> {
    assertWritable(spec, origin);
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.query<PipelineRow>(
          `UPDATE pipelines SET current_version = current_version + 1, name = $4, description = $5, updated_at = now()
           WHERE id = $1 AND org_id = $2 AND current_version = $3 RETURNING ${WITH_ORG_SLUG}`,
          [id, principal.orgId, expectedVersion, spec.name, spec.description ?? null],
        );
        if (!row) return 'stale' as const;
        await insertVersion(tx, id, row.current_version, spec, origin, principal.userId);
        return row;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return 'name_taken';
      throw error;
    }
  }

  async get(principal: Principal, id: string): Promise<PipelineRow | null> {
    const rows = await this.db.query<PipelineRow>(`SELECT ${WITH_ORG_SLUG} FROM pipelines WHERE id = $1 AND org_id = $2`, [id, principal.orgId]);
    return rows[0] ?? null;
  }

  async list(principal: Principal): Promise<PipelineRow[]> {
    return this.db.query<PipelineRow>(`SELECT ${WITH_ORG_SLUG} FROM pipelines WHERE org_id = $1 ORDER BY created_at DESC, id`, [principal.orgId]);
  }

  async version(pipelineId: string, version: number): Promise<VersionRow | null> {
    const rows = await this.db.query<VersionRow>(
      `SELECT * FROM pipeline_versions WHERE pipeline_id = $1 AND version = $2`,
      [pipelineId, version],
    );
    return rows[0] ?? null;
  }

  /** Version history without the specs, newest first. */
  async versions(pipelineId: string): Promise<Array<Omit<VersionRow, 'spec'>>> {
    return this.db.query(
      `SELECT pipeline_id, version, spec_hash, origin, created_by, created_at FROM pipeline_versions
       WHERE pipeline_id = $1 ORDER BY version DESC`,
      [pipelineId],
    );
  }

  /** Removes the pipeline and, by cascade, all its versions. False when it was not there. */
  async delete(principal: Principal, id: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM pipelines WHERE id = $1 AND org_id = $2 RETURNING id`, [id, principal.orgId]);
    return rows.length > 0;
  }
}

/**
 * Behind every entrance's guard, the last one: a spec the store cannot hold, or nested deep enough
 * to overflow JSON.stringify and the hash's walk, is refused with its path before any statement.
 */
function assertWritable(spec: PipelineSpec, origin: object): void {
  assertStorable(spec, 'The pipeline spec', 'invalid:pipeline');
  assertStorable(origin, 'The version\'s origin', 'invalid:pipeline');
}

async function insertVersion(tx: Db, id: string, version: number, spec: PipelineSpec, origin: object, userId: string) {
  await tx.query(
    `INSERT INTO pipeline_versions (pipeline_id, version, spec, spec_hash, origin, created_by)
     VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6)`,
    [id, version, JSON.stringify(spec), specHash(spec), JSON.stringify(origin), userId],
  );
}
