import type { Db } from '../adapters/store/db.ts';
import { AppError } from '../errors.ts';
import { blockTypeRef, summarize, type BlockType, type BlockTypeSummary } from './block-type.ts';
import type { BlockTypeManifest, Category, PortType } from './manifest-schema.ts';
import type { SearchDocument } from './search-index.ts';

export interface SearchFilters {
  query?: string;
  category?: Category;
  inputType?: PortType;
  outputType?: PortType;
  limit?: number;
}

export interface SearchHit {
  blockType: BlockTypeSummary;
  score: number;
}

type Row = { manifest: BlockTypeManifest; org_id: string | null; retired_at: Date | null };
type SummaryRow = { summary: Omit<BlockTypeSummary, 'ref' | 'builtin'>; org_id: string | null };

const toBlockType = (row: Row): BlockType => ({
  ...row.manifest,
  ref: blockTypeRef(row.manifest.slug, row.manifest.version),
  builtin: row.org_id === null,
  ...(row.retired_at ? { retired: true as const } : {}),
});

const toSummary = (row: SummaryRow): BlockTypeSummary => ({
  ...row.summary,
  ref: blockTypeRef(row.summary.slug, row.summary.version),
  builtin: row.org_id === null,
});

const FULL = `SELECT m.manifest, t.org_id, t.retired_at FROM block_types t JOIN block_type_manifests m USING (slug, version)`;

/** The latest version of each slug is its highest one not retired (none, when every one is). */
async function markLatest(tx: Db, slugs: string[]): Promise<void> {
  await tx.query(
    `UPDATE block_types b SET is_latest = coalesce(b.version = m.latest, false)
     FROM (SELECT slug, max(version) FILTER (WHERE retired_at IS NULL) AS latest FROM block_types WHERE slug = ANY($1::text[]) GROUP BY slug) m
     WHERE b.slug = m.slug`,
    [slugs],
  );
}

/** The catalog's rows: upserts from manifests, lookups, and what the search index is built from. */
export class CatalogRepo {
  private readonly db: Db;
  private readonly writeListeners: Array<() => void> = [];

  constructor(db: Db) {
    this.db = db;
  }

  /** Called after each catalog write through this repo (the search index drops its cached revision). */
  onWrite(listener: () => void): void {
    this.writeListeners.push(listener);
  }

  /**
   * Inserts or refreshes block types in one statement and one transaction; `orgId` null = built-in.
   * With `onlyNew`, a version that exists already is never rewritten: nothing is written and a
   * conflict is thrown (two compiles of one repository numbering the same version at once).
   */
  async upsert(manifests: BlockTypeManifest[], orgId: string | null = null, opts: { onlyNew?: boolean } = {}): Promise<void> {
    if (manifests.length === 0) return;
    const rows = manifests.map((m) => ({
      slug: m.slug,
      version: m.version,
      name: m.name,
      description: m.description,
      category: m.category,
      tags: m.tags,
      input_types: [...new Set(m.inputs.map((p) => p.type))],
      output_types: [...new Set(m.outputs.map((p) => p.type))],
      summary: summarize(m),
      manifest: m,
    }));
    const recordset = `jsonb_to_recordset($1::jsonb) AS x(slug text, version int, name text, description text, category text,
      tags text[], input_types text[], output_types text[], summary jsonb, manifest jsonb)`;
    await this.db.transaction(async (tx) => {
      const written = await tx.query(
        `INSERT INTO block_types (slug, version, org_id, category, input_types, output_types)
         SELECT x.slug, x.version, $2::uuid, x.category, x.input_types, x.output_types FROM ${recordset}
         ON CONFLICT (slug, version) DO ${opts.onlyNew ? 'NOTHING' : `UPDATE SET
           category = EXCLUDED.category, input_types = EXCLUDED.input_types, output_types = EXCLUDED.output_types,
           updated_at = now()`}
         RETURNING slug`,
        [JSON.stringify(rows), orgId],
      );
      if (written.length < rows.length) {
        throw new AppError('conflict:block_type_version', 'A version this write would register exists already; nothing was written.', { hint: 'Another compile registered it meanwhile: compile again.' });
      }
      await tx.query(
        `INSERT INTO block_type_manifests (slug, version, summary, manifest) SELECT x.slug, x.version, x.summary, x.manifest FROM ${recordset}
         ON CONFLICT (slug, version) DO UPDATE SET summary = EXCLUDED.summary, manifest = EXCLUDED.manifest`,
        [JSON.stringify(rows)],
      );
      await markLatest(tx, [...new Set(rows.map((r) => r.slug))]);
      await tx.query('UPDATE catalog_state SET revision = revision + 1 WHERE id = 1');
    });
    for (const listener of this.writeListeners) listener();
  }

  /**
   * Retires one version of a block type the org owns (built-ins are never an org's to retire);
   * false when it has no such version. Retiring twice keeps the first date.
   */
  async retire(orgId: string, slug: string, version: number): Promise<boolean> {
    const done = await this.db.transaction(async (tx) => {
      const hit = await tx.query(
        `UPDATE block_types SET retired_at = coalesce(retired_at, now()), updated_at = now() WHERE slug = $1 AND version = $2 AND org_id = $3 RETURNING slug`,
        [slug, version, orgId],
      );
      if (!hit.length) return false;
      await markLatest(tx, [slug]);
      await tx.query('UPDATE catalog_state SET revision = revision + 1 WHERE id = 1');
      return true;
    });
    if (done) for (const listener of this.writeListeners) listener();
    return done;
  }

  /** Changes whenever any block type is written; cheap enough to read before every search. */
  async revision(): Promise<number> {
    const [row] = await this.db.query<{ revision: string | number }>('SELECT revision FROM catalog_state WHERE id = 1');
    return Number(row!.revision);
  }

  /** The latest version of every block type, as the search index reads them, with the revision they belong to. */
  async searchDocuments(): Promise<{ revision: number; documents: SearchDocument[] }> {
    return this.db.transaction(async (tx) => {
      const [state] = await tx.query<{ revision: string | number }>('SELECT revision FROM catalog_state WHERE id = 1');
      const rows = await tx.query<SummaryRow & { input_types: string[]; output_types: string[] }>(
        `SELECT m.summary, t.org_id, t.input_types, t.output_types FROM block_types t JOIN block_type_manifests m USING (slug, version)
         WHERE t.is_latest ORDER BY t.slug`,
      );
      return {
        revision: Number(state!.revision),
        documents: rows.map((row) => ({ summary: toSummary(row), orgId: row.org_id, inputTypes: row.input_types, outputTypes: row.output_types })),
      };
    });
  }

  /** One block type by slug and version (the latest when version is omitted), or null. */
  async get(orgId: string, slug: string, version?: number): Promise<BlockType | null> {
    const rows = await this.db.query<Row>(
      `${FULL} WHERE t.slug = $1 AND (t.org_id IS NULL OR t.org_id = $2) AND ($3::int IS NULL AND t.is_latest OR t.version = $3::int)`,
      [slug, orgId, version ?? null],
    );
    return rows[0] ? toBlockType(rows[0]) : null;
  }

  /** Every version of these slugs that the org may use, retired ones flagged, in one query (validation's lookup). */
  async lookup(orgId: string, slugs: string[]): Promise<BlockType[]> {
    if (slugs.length === 0) return [];
    const rows = await this.db.query<Row>(
      `${FULL} WHERE t.slug = ANY($1::text[]) AND (t.org_id IS NULL OR t.org_id = $2)`,
      [slugs, orgId],
    );
    return rows.map(toBlockType);
  }

  /** The versions of every slug a user may see; used to tell "no such version" from "no such block". */
  async versionsOf(orgId: string, slug: string): Promise<number[]> {
    const rows = await this.db.query<{ version: number }>(
      `SELECT version FROM block_types WHERE slug = $1 AND (org_id IS NULL OR org_id = $2) ORDER BY version`,
      [slug, orgId],
    );
    return rows.map((r) => r.version);
  }

  /** Plain substring scan over the same columns: the baseline the benchmark compares search with. */
  async scanIlike(orgId: string, text: string, limit = 20): Promise<BlockTypeSummary[]> {
    const rows = await this.db.query<SummaryRow>(
      `SELECT m.summary, t.org_id FROM block_types t JOIN block_type_manifests m USING (slug, version)
       WHERE t.is_latest AND (t.org_id IS NULL OR t.org_id = $1)
         AND (m.summary->>'name' ILIKE $2 OR m.summary->>'description' ILIKE $2 OR t.category ILIKE $2 OR m.summary->>'tags' ILIKE $2)
       ORDER BY t.slug LIMIT $3`,
      [orgId, `%${text.replace(/[\\%_]/g, '\\$&')}%`, limit],
    );
    return rows.map(toSummary);
  }
}
