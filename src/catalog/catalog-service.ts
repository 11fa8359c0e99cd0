import type { Principal } from '../auth/principal.ts';
import { AppError, type Issue } from '../errors.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import type { BlockTypeSource } from '../pipelines/validation/report.ts';
import { blockTypeRef, parseBlockTypeRef, type BlockType } from './block-type.ts';
import type { CatalogRepo, SearchFilters, SearchHit } from './catalog-repo.ts';
import { CatalogSearch } from './catalog-search.ts';
import { CATEGORIES } from './manifest-schema.ts';

export interface SearchResult {
  results: SearchHit[];
  /** Set when nothing matched: what to try instead. */
  hint?: string;
}

/** The block catalog as the rest of the service uses it. */
export class CatalogService {
  private readonly repo: CatalogRepo;
  private readonly index: CatalogSearch;

  constructor(repo: CatalogRepo, opts: { freshnessMs?: number } = {}) {
    this.repo = repo;
    this.index = new CatalogSearch(repo, opts.freshnessMs);
  }

  async search(principal: Principal, filters: SearchFilters): Promise<SearchResult> {
    const results = await this.index.search(principal.orgId, filters);
    if (results.length) return { results };
    const narrowed = [filters.category && `category "${filters.category}"`, filters.inputType && `input type "${filters.inputType}"`, filters.outputType && `output type "${filters.outputType}"`].filter(Boolean);
    const hint = filters.query
      ? `No block type matches "${filters.query}"${narrowed.length ? ` with ${narrowed.join(', ')}` : ''}. Try fewer or broader words (e.g. "postgres", "load", "dbt")${narrowed.length ? ' or drop the filters' : ''}; categories are ${CATEGORIES.join(', ')}.`
      : `No block type has ${narrowed.join(', ')}. Categories are ${CATEGORIES.join(', ')}.`;
    return { results, hint };
  }

  /** A block type by "slug" (latest) or "slug@version"; a clear 404 otherwise. */
  async require(principal: Principal, ref: string): Promise<BlockType> {
    const parsed = parseBlockTypeRef(ref);
    const found = parsed ? await this.repo.get(principal.orgId, parsed.slug, parsed.version) : null;
    if (found) return found;
    const versions = parsed ? await this.repo.versionsOf(principal.orgId, parsed.slug) : [];
    throw new AppError('not_found:block_type', `There is no block type "${ref}".`, {
      hint: versions.length
        ? `"${parsed!.slug}" has versions ${versions.join(', ')}.`
        : 'Search the catalog (GET /v1/block-types?q=...) for the slug of a block type that does this.',
    });
  }

  /** The view of the catalog that validation reads, scoped to one org. */
  sourceFor(principal: Principal): BlockTypeSource {
    return {
      lookup: (slugs) => this.repo.lookup(principal.orgId, slugs),
      suggest: async (text) => (await this.index.search(principal.orgId, { query: text, limit: 3 })).map((h) => h.blockType.ref),
    };
  }

  /**
   * Issues for the retired block type versions a spec (already pinned) names. Checked when a new
   * pipeline version is written, never when a stored one is compiled or deployed: a pipeline that
   * pins a retired version keeps deploying until someone edits it.
   */
  async retiredIn(principal: Principal, spec: PipelineSpec): Promise<Issue[]> {
    const uses = [...spec.blocks.map((b, i) => ({ ref: b.type, path: `/blocks/${i}/type` })), ...spec.sensors.map((s, i) => ({ ref: s.type, path: `/sensors/${i}/type` }))];
    const slugs = [...new Set(uses.map((u) => parseBlockTypeRef(u.ref)?.slug).filter((s): s is string => !!s))];
    const types = await this.repo.lookup(principal.orgId, slugs);
    const issues: Issue[] = [];
    for (const { ref, path } of uses) {
      if (!types.some((t) => t.ref === ref && t.retired)) continue;
      const slug = parseBlockTypeRef(ref)!.slug;
      const current = types.filter((t) => t.slug === slug && !t.retired).sort((a, b) => b.version - a.version)[0];
      issues.push({
        code: 'retired_block_type',
        path,
        message: `block type "${ref}" is retired`,
        hint: current ? `Use "${current.ref}", its latest version that is not retired.` : `Every version of "${slug}" is retired; search the catalog for a block type that does this.`,
      });
    }
    return issues;
  }

  /** Rewrites "slug" to "slug@latest" so a stored version never changes meaning later. */
  async pinTypes(principal: Principal, spec: PipelineSpec): Promise<PipelineSpec> {
    const unpinned = [...spec.blocks.map((b) => b.type), ...spec.sensors.map((s) => s.type)].filter((r) => !r.includes('@'));
    if (unpinned.length === 0) return spec;
    const latest = new Map<string, number>();
    for (const t of await this.repo.lookup(principal.orgId, [...new Set(unpinned)])) {
      if (!t.retired) latest.set(t.slug, Math.max(latest.get(t.slug) ?? 0, t.version));
    }
    const pin = (ref: string) => (ref.includes('@') ? ref : blockTypeRef(ref, latest.get(ref)!));
    return {
      ...spec,
      blocks: spec.blocks.map((b) => ({ ...b, type: pin(b.type) })),
      sensors: spec.sensors.map((s) => ({ ...s, type: pin(s.type) })),
    };
  }
}
