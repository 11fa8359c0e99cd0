import type { BlockType } from '../catalog/block-type.ts';
import { applyConfigDefaults } from '../catalog/config-validator.ts';
import type { ColumnContract } from '../catalog/manifest-schema.ts';
import type { BlockInstance } from './spec-schema.ts';

/**
 * Column contracts of table ports: what an output is known to carry and what an input needs.
 * Validation compares the two on each edge; compile writes the needs into pipeline.json so the
 * block library checks the real table again at run time. Both read them here, so the two checks
 * cannot disagree about where a contract comes from.
 */

/** A column an input needs, and the JSON pointer of the config value that names it (null when its manifest does). */
export interface NeededColumn extends ColumnContract {
  path: string | null;
  /** The config field naming it, and whether the value is the field's default (the user never wrote it). */
  field: { name: string; defaulted: boolean } | null;
}

/**
 * The columns `port` of `block` is known to carry: what the spec declares of it (the user knows
 * their source), else what its block type guarantees. Undefined when nobody declared any: an
 * unknown table is not a wrong one, so nothing downstream of it is checked.
 */
export function producedColumns(block: BlockInstance, type: BlockType, port: string): ColumnContract[] | undefined {
  const output = type.outputs.find((p) => p.name === port);
  if (output?.type !== 'table') return undefined;
  return block.contracts?.[port]?.columns ?? output.columns;
}

/**
 * The columns input `port` of `block` (at `blockIndex` in the spec) needs: those its block type
 * declares, then those named by the config fields its type lists in `column_fields` (defaults
 * filled in, since a sink uses its default version column as surely as a written one).
 */
export function neededColumns(block: BlockInstance, type: BlockType, blockIndex: number, port: string): NeededColumn[] {
  const input = type.inputs.find((p) => p.name === port);
  if (input?.type !== 'table') return [];
  const declared = (input.columns ?? []).map((c) => ({ ...c, path: null, field: null }));
  if (!input.column_fields) return declared;
  const config = applyConfigDefaults(type.config_schema, block.config);
  const fromConfig = input.column_fields.flatMap((name): NeededColumn[] => {
    const value = config[name];
    const path = `/blocks/${blockIndex}/config/${name}`;
    const field = { name, defaulted: block.config[name] === undefined };
    if (typeof value === 'string') return [{ name: value, path, field }];
    if (!Array.isArray(value)) return [];
    return value.flatMap((v, k) => (typeof v === 'string' ? [{ name: v, path: `${path}/${k}`, field }] : []));
  });
  return [...declared, ...fromConfig];
}

/** The needs of an input as pipeline.json carries them: each column once, its type or null. */
export function runtimeNeeds(needs: NeededColumn[]): Array<{ name: string; type: string | null }> {
  const byName = new Map<string, string | null>();
  for (const need of needs) if (!byName.has(need.name) || byName.get(need.name) === null) byName.set(need.name, need.type ?? null);
  return [...byName].map(([name, type]) => ({ name, type }));
}
