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

/** What an output is known to carry, and the JSON pointer of the list to extend when a column is missing (null: its manifest's). */
export interface ProducedColumns {
  columns: ColumnContract[];
  declaredAt: string | null;
}

/**
 * The columns `port` of `block` (at `blockIndex`) is known to carry: what the spec declares of it
 * (the user knows their source), else the columns its config selects (the fields its type lists
 * in `column_fields`, e.g. an extract's `columns`), else what its block type guarantees.
 * Undefined when none says: an unknown table is not a wrong one, so nothing it feeds is checked.
 */
export function producedColumns(block: BlockInstance, type: BlockType, blockIndex: number, port: string): ProducedColumns | undefined {
  const output = type.outputs.find((p) => p.name === port);
  if (output?.type !== 'table') return undefined;
  const declared = block.contracts?.[port]?.columns;
  if (declared) return { columns: declared, declaredAt: `/blocks/${blockIndex}/contracts/${port}/columns` };
  const selected = namedInConfig(block, type, blockIndex, output.column_fields ?? []);
  if (selected.length) return { columns: selected.map(({ name }) => ({ name })), declaredAt: `/blocks/${blockIndex}/config/${selected[0]!.field!.name}` };
  return output.columns ? { columns: output.columns, declaredAt: null } : undefined;
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
  return [...declared, ...namedInConfig(block, type, blockIndex, input.column_fields ?? [])];
}

/** Each column name the config fields `fields` hold (defaults filled in), with the JSON pointer of the value. */
function namedInConfig(block: BlockInstance, type: BlockType, blockIndex: number, fields: string[]): Array<NeededColumn & { path: string }> {
  if (!fields.length) return [];
  const config = applyConfigDefaults(type.config_schema, block.config);
  return fields.flatMap((name) => {
    const value = config[name];
    const path = `/blocks/${blockIndex}/config/${name}`;
    const field = { name, defaulted: block.config[name] === undefined };
    if (typeof value === 'string') return [{ name: value, path, field }];
    if (!Array.isArray(value)) return [];
    return value.flatMap((v, k) => (typeof v === 'string' ? [{ name: v, path: `${path}/${k}`, field }] : []));
  });
}

/** The needs of an input as pipeline.json carries them: each column once, its type or null. */
export function runtimeNeeds(needs: NeededColumn[]): Array<{ name: string; type: string | null }> {
  const byName = new Map<string, string | null>();
  for (const need of needs) if (!byName.has(need.name) || byName.get(need.name) === null) byName.set(need.name, need.type ?? null);
  return [...byName].map(([name, type]) => ({ name, type }));
}
