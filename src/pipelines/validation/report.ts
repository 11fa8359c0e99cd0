import type { BlockType } from '../../catalog/block-type.ts';
import type { Issue } from '../../errors.ts';
import type { PipelineSpec } from '../spec-schema.ts';

export interface ValidationReport {
  valid: boolean;
  /** Every problem that stops compile and deploy. */
  errors: Issue[];
  /** Things that work but are probably not meant (an isolated block). */
  warnings: Issue[];
}

/** Where the block types a spec names come from: the catalog, or a fake in unit tests. */
export interface BlockTypeSource {
  /** Every version of these slugs the caller may use. */
  lookup(slugs: string[]): Promise<BlockType[]>;
  /** A few block type refs that look like what was asked for, for hints. */
  suggest(text: string): Promise<string[]>;
}

/** What each check reads: the parsed spec and the block type each block instance resolved to. */
export interface CheckInput {
  spec: PipelineSpec;
  /** Block instance id → its block type; missing when the type could not be resolved. */
  typeOf: Map<string, BlockType>;
  /** Block instance id → its index in spec.blocks (first occurrence). */
  indexOf: Map<string, number>;
}

export interface Findings {
  errors: Issue[];
  warnings: Issue[];
}

export const emptyFindings = (): Findings => ({ errors: [], warnings: [] });
