import type { Db } from '../adapters/store/db.ts';
import { blockTypeRef, type BlockType } from './block-type.ts';
import type { BlockTypeManifest, Category, PortType } from './manifest-schema.ts';
import { toPrefixTsquery } from './search-query.ts';

export interface SearchFilters {
  query?: string;
  category?: Category;
  inputType?: PortType;
  outputType?: PortType;
  limit?: number;
}

export interface SearchHit {
  blockType: BlockType;
  score: number;
}

type Row = { manifest: BlockTypeManifest; org_id: string | null; score?: number };

const toBlockType = (row: Row): BlockType => ({
  ...row.manifest,
  ref: blockTypeRef(row.manifest.slug, row.manifest.version),
  builtin: row.org_id === null,
});

// Name weighs most, then slug words, tags and category, then the description.
const SEARCH_DOCUMENT = `
  setweight(to_tsvector('english', x.name), 'A') ||
  setweight(to_tsvector('english', replace(x.slug, '_', ' ') || ' ' || array_to_string(x.tags, ' ') || ' ' || x.category), 'B') ||
  setweight(to_tsvector('english', x.description), 'C')`;

/** The catalog's rows: upserts from manifests, lookups, and ranked search. */
export class CatalogRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Inserts or refreshes block types in one statement and one transaction; `orgId` null = built-in. */
  async upsert(manifests: BlockTypeManifest[], orgId: string | null = null): Promise<void> {
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
      manifest: m,
    }));
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO block_types (slug, version, org_id, name, description, category, tags, input_types, output_types, manifest, search)
         SELECT x.slug, x.version, $2::uuid, x.name, x.description, x.category, x.tags, x.input_types, x.output_types, x.manifest,
                ${SEARCH_DOCUMENT}
         FROM jsonb_to_recordset($1::jsonb) AS x(slug text, version int, name text, description text, category text,
                                                 tags text[], input_types text[], output_types text[], manifest jsonb)
         ON CONFLICT (slug, version) DO UPDATE SET
           name = EXCLUDED.name, description = EXCLUDED.description, category = EXCLUDED.category,
           tags = EXCLUDED.tags, input_types = EXCLUDED.input_types, output_types = EXCLUDED.output_types,
           manifest = EXCLUDED.manifest, search = EXCLUDED.search, updated_at = now()`,
        [JSON.stringify(rows), orgId],
      );
      await tx.query(
        `UPDATE block_types b SET is_latest = (b.version = m.latest)
         FROM (SELECT slug, max(version) AS latest FROM block_types WHERE slug = ANY($1::text[]) GROUP BY slug) m
         WHERE b.slug = m.slug`,
        [[...new Set(rows.map((r) => r.slug))]],
      );
    });
  }

  /** One block type by slug and version (the latest when version is omitted), or null. */
  async get(orgId: string, slug: string, version?: number): Promise<BlockType | null> {
    const rows = await this.db.query<Row>(
      `SELECT manifest, org_id FROM block_types
       WHERE slug = $1 AND (org_id IS NULL OR org_id = $2) AND ($3::int IS NULL AND is_latest OR version = $3::int)`,
      [slug, orgId, version ?? null],
    );
    return rows[0] ? toBlockType(rows[0]) : null;
  }

  /** Every version of these slugs that the org may use, in one query (validation's lookup). */
  async lookup(orgId: string, slugs: string[]): Promise<BlockType[]> {
    if (slugs.length === 0) return [];
    const rows = await this.db.query<Row>(
      `SELECT manifest, org_id FROM block_types WHERE slug = ANY($1::text[]) AND (org_id IS NULL OR org_id = $2)`,
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

  /**
   * Ranked search over name, slug, tags, category and description (a GIN-indexed tsvector), with
   * filters. No query text lists the matching block types by category and slug.
   */
  async search(orgId: string, filters: SearchFilters): Promise<SearchHit[]> {
    const tsquery = filters.query ? toPrefixTsquery(filters.query) : null;
    const params = [orgId, filters.category ?? null, filters.inputType ?? null, filters.outputType ?? null, filters.limit ?? 20];
    const where = `is_latest AND (org_id IS NULL OR org_id = $1)
      AND ($2::text IS NULL OR category = $2) AND ($3::text IS NULL OR $3 = ANY(input_types))
      AND ($4::text IS NULL OR $4 = ANY(output_types))`;
    const rows = tsquery
      ? await this.db.query<Row>(
          `SELECT manifest, org_id, ts_rank(search, q) AS score
           FROM block_types, to_tsquery('english', $6) q
           WHERE ${where} AND search @@ q
           ORDER BY score DESC, slug LIMIT $5`,
          [...params, tsquery],
        )
      : filters.query
        ? [] // only punctuation: nothing can match
        : await this.db.query<Row>(`SELECT manifest, org_id FROM block_types WHERE ${where} ORDER BY category, slug LIMIT $5`, params);
    return rows.map((row) => ({ blockType: toBlockType(row), score: Number(row.score ?? 0) }));
  }

  /** Plain substring scan over the same columns: the baseline the benchmark compares search with. */
  async scanIlike(orgId: string, text: string, limit = 20): Promise<BlockType[]> {
    const rows = await this.db.query<Row>(
      `SELECT manifest, org_id FROM block_types
       WHERE is_latest AND (org_id IS NULL OR org_id = $1)
         AND (name ILIKE $2 OR description ILIKE $2 OR category ILIKE $2 OR array_to_string(tags, ' ') ILIKE $2)
       ORDER BY slug LIMIT $3`,
      [orgId, `%${text.replace(/[\\%_]/g, '\\$&')}%`, limit],
    );
    return rows.map(toBlockType);
  }
}
