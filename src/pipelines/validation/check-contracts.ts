import type { ColumnContract } from '../../catalog/manifest-schema.ts';
import { neededColumns, producedColumns, type NeededColumn } from '../contracts.ts';
import type { CheckInput, Findings } from './report.ts';

const LISTED = 12;
const list = (columns: ColumnContract[]) =>
  columns.slice(0, LISTED).map((c) => c.name).join(', ') + (columns.length > LISTED ? ', …' : '');

const whereNamed = (need: NeededColumn) =>
  need.field?.defaulted ? ` (${need.field.name} defaults to "${need.name}")` : '';

/**
 * Each table edge whose producer declares its columns (see contracts.ts) must carry every column
 * its consumer needs, of the declared type where both sides give one. An edge whose producer
 * declares nothing is not checked: the run checks the real table instead. Edges with a wrong end
 * or mismatched port types are checkPorts' to report, so they are skipped here.
 */
export function checkContracts({ spec, typeOf, indexOf }: CheckInput, findings: Findings): void {
  spec.blocks.forEach((block, i) => {
    const type = typeOf.get(block.id);
    if (!type || !block.contracts) return;
    const tableOutputs = type.outputs.filter((p) => p.type === 'table').map((p) => p.name);
    for (const port of Object.keys(block.contracts)) {
      if (tableOutputs.includes(port)) continue;
      findings.errors.push({
        code: 'invalid_contract',
        path: `/blocks/${i}/contracts/${port}`,
        message: `block "${block.id}" (${type.ref}) has no table output "${port}" to declare columns of`,
        hint: tableOutputs.length
          ? `Declare the columns under one of its table outputs (${tableOutputs.join(', ')}), or remove this entry.`
          : 'Remove this entry: only table outputs carry column contracts.',
      });
    }
  });

  const seen = new Set<string>();
  spec.edges.forEach((edge, i) => {
    // A repeated edge is checkPorts' duplicate_edge; its contract is reported once, for the first.
    const key = JSON.stringify([edge.from, edge.to]);
    if (seen.has(key)) return;
    seen.add(key);
    const fromIndex = indexOf.get(edge.from.block);
    const toIndex = indexOf.get(edge.to.block);
    const fromType = typeOf.get(edge.from.block);
    const toType = typeOf.get(edge.to.block);
    if (fromIndex === undefined || toIndex === undefined || !fromType || !toType) return;
    const known = producedColumns(spec.blocks[fromIndex]!, fromType, fromIndex, edge.from.port);
    if (!known) return;
    const produced = known.columns;
    const have = new Map(produced.map((c) => [c.name, c]));
    const source = `"${edge.from.block}" produces on port ${edge.from.port}`;
    const declaredAt = known.declaredAt ?? `/blocks/${fromIndex}/contracts/${edge.from.port}/columns`;
    const declareHint = `If the table has it, add it to ${declaredAt}; otherwise put a transform between the blocks that produces it.`;
    for (const need of neededColumns(spec.blocks[toIndex]!, toType, toIndex, edge.to.port)) {
      const got = have.get(need.name);
      const path = need.path ?? `/edges/${i}`;
      if (!got) {
        findings.errors.push({
          code: 'contract_mismatch',
          path,
          message: `column "${need.name}"${whereNamed(need)} is not among the columns ${source} (${list(produced)})`,
          hint: need.field
            ? `Name only columns among those in ${need.field.name}. ${declareHint}`
            : `Input "${edge.to.block}.${edge.to.port}" (${toType.ref}) always needs it. ${declareHint}`,
        });
      } else if (need.type && got.type && need.type !== got.type) {
        findings.errors.push({
          code: 'contract_mismatch',
          path,
          message: `column "${need.name}" must be ${need.type} for "${edge.to.block}", but "${edge.from.block}" declares it ${got.type} on port ${edge.from.port}`,
          hint: `Convert it with a transform between the blocks, or correct its type at ${declaredAt} if that is wrong.`,
        });
      }
    }
  });
}
