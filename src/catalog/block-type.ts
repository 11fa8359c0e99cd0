import type { BlockTypeManifest } from './manifest-schema.ts';

/** A block type as the service hands it out: the manifest plus its reference and where it came from. */
export type BlockType = BlockTypeManifest & {
  /** "slug@version", the form pipeline specs and blocks use. */
  ref: string;
  builtin: boolean;
  /** Set on a retired version: search and "latest" skip it, a pipeline pinning it keeps working. */
  retired?: true;
};

/** What search returns: enough to choose a block (ports, secrets, description), without the config schema. */
export type BlockTypeSummary = Omit<BlockType, 'config_schema' | 'python' | 'retired'>;

export function summarize(manifest: BlockTypeManifest): Omit<BlockTypeSummary, 'ref' | 'builtin'> {
  const { config_schema: _schema, python: _python, ...summary } = manifest;
  return summary;
}

export const blockTypeRef = (slug: string, version: number) => `${slug}@${version}`;

/** "slug@3" → { slug, version: 3 }; "slug" → { slug, version: undefined } meaning the latest. */
export function parseBlockTypeRef(ref: string): { slug: string; version?: number } | null {
  const match = /^([a-z][a-z0-9_]*)(?:@(\d+))?$/.exec(ref);
  if (!match) return null;
  return { slug: match[1]!, ...(match[2] ? { version: Number(match[2]) } : {}) };
}
