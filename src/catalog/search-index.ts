import type { BlockTypeSummary } from './block-type.ts';
import type { SearchFilters, SearchHit } from './catalog-repo.ts';
import { tokenize } from './tokenize.ts';

export interface SearchDocument {
  summary: BlockTypeSummary;
  orgId: string | null;
  inputTypes: string[];
  outputTypes: string[];
}

// How much a word counts by where it appears: a name says what a block is; a description only
// mentions things. A prefix hit ("clickh") counts a little less than the whole word.
const FIELD_WEIGHT = { name: 1, tags: 0.6, category: 0.4, description: 0.2 } as const;
const PREFIX_FACTOR = 0.8;

/**
 * An in-memory inverted index over the catalog's latest block types. Built from the store and
 * replaced whole when the catalog's revision changes; never edited in place, so a search always
 * sees one consistent catalog.
 */
export class SearchIndex {
  private readonly docs: SearchDocument[];
  /** token → (doc index → best field weight of that token in the doc). */
  private readonly postings = new Map<string, Map<number, number>>();
  /** Every token, sorted, so a prefix is a binary search away. */
  private readonly vocabulary: string[];

  constructor(docs: SearchDocument[]) {
    this.docs = docs;
    docs.forEach((doc, i) => {
      const s = doc.summary;
      const fields: Array<[string, number]> = [
        [s.name, FIELD_WEIGHT.name],
        [[s.slug.replace(/_/g, ' '), ...s.tags].join(' '), FIELD_WEIGHT.tags],
        [s.category, FIELD_WEIGHT.category],
        [s.description, FIELD_WEIGHT.description],
      ];
      for (const [text, weight] of fields) {
        for (const token of tokenize(text)) {
          let posting = this.postings.get(token);
          if (!posting) this.postings.set(token, (posting = new Map()));
          if ((posting.get(i) ?? 0) < weight) posting.set(i, weight);
        }
      }
    });
    this.vocabulary = [...this.postings.keys()].sort();
  }

  get size(): number {
    return this.docs.length;
  }

  /**
   * Ranks by the sum over query words of (best field weight × rarity), so a block matching more
   * of "copy postgres into clickhouse" ranks first, and rare words outweigh common ones.
   */
  search(orgId: string, filters: SearchFilters): SearchHit[] {
    const limit = filters.limit ?? 20;
    const visible = (doc: SearchDocument) =>
      (doc.orgId === null || doc.orgId === orgId) &&
      (!filters.category || doc.summary.category === filters.category) &&
      (!filters.inputType || doc.inputTypes.includes(filters.inputType)) &&
      (!filters.outputType || doc.outputTypes.includes(filters.outputType));

    const words = filters.query === undefined ? [] : [...new Set(tokenize(filters.query))].slice(0, 12);
    if (filters.query !== undefined && words.length === 0) return [];
    if (words.length === 0) {
      return this.docs
        .filter(visible)
        .sort((a, b) => a.summary.category.localeCompare(b.summary.category) || a.summary.slug.localeCompare(b.summary.slug))
        .slice(0, limit)
        .map((doc) => ({ blockType: doc.summary, score: 0 }));
    }

    const scores = new Map<number, number>();
    for (const word of words) {
      const best = this.matches(word);
      const rarity = Math.log(1 + this.docs.length / Math.max(1, best.size));
      for (const [i, weight] of best) scores.set(i, (scores.get(i) ?? 0) + weight * rarity);
    }
    const hits: SearchHit[] = [];
    for (const [i, score] of scores) {
      const doc = this.docs[i]!;
      if (visible(doc)) hits.push({ blockType: doc.summary, score: Math.round(score * 1000) / 1000 });
    }
    return hits.sort((a, b) => b.score - a.score || a.blockType.slug.localeCompare(b.blockType.slug)).slice(0, limit);
  }

  /** Doc index → best weight of any token equal to or starting with `word`. */
  private matches(word: string): Map<number, number> {
    const best = new Map<number, number>();
    for (let at = lowerBound(this.vocabulary, word); at < this.vocabulary.length; at++) {
      const token = this.vocabulary[at]!;
      if (!token.startsWith(word)) break;
      const factor = token === word ? 1 : PREFIX_FACTOR;
      for (const [i, weight] of this.postings.get(token)!) {
        if ((best.get(i) ?? 0) < weight * factor) best.set(i, weight * factor);
      }
    }
    return best;
  }
}

function lowerBound(sorted: string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
