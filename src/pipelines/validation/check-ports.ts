import type { BlockType } from '../../catalog/block-type.ts';
import type { Port } from '../../catalog/manifest-schema.ts';
import type { CheckInput, Findings } from './report.ts';

const describePorts = (ports: Port[]) =>
  ports.length ? ports.map((p) => `"${p.name}" (${p.type})`).join(', ') : 'none';

/**
 * Catalog block types made to turn one port type into another, named in the hint of an edge that
 * joins the two: a model told "put a converter between them" without a name searches and may
 * guess; with the name it adds the right block. (Kept beside the hint, not derived from the
 * catalog, because validation sees only the spec's own block types.)
 */
export const CONVERTERS: Record<string, string> = { 'files->table': 'files_to_table' };

const convertHint = (from: string, to: string): string => {
  const converter = CONVERTERS[`${from}->${to}`];
  return converter
    ? `Put a ${converter} block between them: connect this ${from} output to its input, and its ${to} output to this input.`
    : `Connect a ${to} output to it, or put a block between them that turns ${from} into ${to}.`;
};

/**
 * A "tables" input stands for tables written into a database, read there by the next block; a
 * sink's "table" output is one such table (duckdb_load's DuckDB table, iceberg_table_write's
 * Iceberg table), so it fits too: dbt reads an Iceberg table, DataHub publishes its lineage.
 * Rows in flight (an extract's or a transform's "table") are written nowhere and do not.
 * (Exported for the evals' scripted policies, which wire ports by this same rule.)
 */
export function fits(out: Pick<Port, 'type'>, inp: Pick<Port, 'type'>, producer: Pick<BlockType, 'category'> | undefined): boolean {
  return out.type === inp.type || (out.type === 'table' && inp.type === 'tables' && producer?.category === 'sink');
}

const mismatchHint = (out: Port, inp: Port): string =>
  out.type === 'table' && inp.type === 'tables'
    ? 'A "tables" input reads tables stored in a database: connect a sink that stores these rows (duckdb_load, iceberg_table_write) and connect its table output here.'
    : convertHint(out.type, inp.type);

/**
 * Every edge must join an existing output port to an existing input port of the same type (or a
 * sink's table into a tables input, see `fits`) (and from a block of a type the input names,
 * when it names some; column contracts are check-contracts.ts'); every required input
 * must be connected; an input takes one edge unless its type says `multiple`.
 */
export function checkPorts({ spec, typeOf, indexOf }: CheckInput, findings: Findings): void {
  const inbound = new Map<string, number[]>();
  const seenEdges = new Map<string, number>();

  spec.edges.forEach((edge, i) => {
    const key = `${edge.from.block}.${edge.from.port}->${edge.to.block}.${edge.to.port}`;
    const duplicateOf = seenEdges.get(key);
    if (duplicateOf !== undefined) {
      findings.errors.push({ code: 'duplicate_edge', path: `/edges/${i}`, message: `the same edge is already at /edges/${duplicateOf}`, hint: 'Remove one of them.' });
      return;
    }
    seenEdges.set(key, i);

    const ends = [
      ['from', edge.from, 'outputs'],
      ['to', edge.to, 'inputs'],
    ] as const;
    const found: { from?: Port; to?: Port } = {};
    for (const [end, ref, side] of ends) {
      if (!indexOf.has(ref.block)) {
        findings.errors.push({
          code: 'unknown_block',
          path: `/edges/${i}/${end}/block`,
          message: `no block has id "${ref.block}"`,
          hint: `Block ids: ${[...indexOf.keys()].join(', ')}.`,
        });
        continue;
      }
      const type = typeOf.get(ref.block);
      if (!type) continue; // its type is already reported
      const port = type[side].find((p) => p.name === ref.port);
      if (!port) {
        findings.errors.push({
          code: 'missing_port',
          path: `/edges/${i}/${end}/port`,
          message: `block "${ref.block}" (${type.ref}) has no ${side === 'outputs' ? 'output' : 'input'} port "${ref.port}"`,
          hint: `Its ${side}: ${describePorts(type[side])}.`,
        });
        continue;
      }
      found[end] = port;
    }
    // An edge that reaches a real input connects it even when its other end or its types are
    // wrong: that mistake is reported once, not again as "required input is not connected".
    if (found.to) {
      const target = `${edge.to.block}.${found.to.name}`;
      inbound.set(target, [...(inbound.get(target) ?? []), i]);
    }
    // A missing block's self-edge is already reported as a missing block, not as a cycle.
    if (edge.from.block === edge.to.block && indexOf.has(edge.from.block)) {
      findings.errors.push({ code: 'cycle', path: `/edges/${i}`, message: `block "${edge.from.block}" feeds itself`, hint: 'Remove this edge; a block cannot read its own output.' });
      return;
    }
    const { from: out, to: inp } = found;
    if (!out || !inp) return;
    const fromType = typeOf.get(edge.from.block);
    if (!fits(out, inp, fromType)) {
      findings.errors.push({
        code: 'incompatible_ports',
        path: `/edges/${i}`,
        message: `output "${edge.from.block}.${out.name}" carries ${out.type} but input "${edge.to.block}.${inp.name}" takes ${inp.type}`,
        hint: mismatchHint(out, inp),
      });
      return;
    }
    if (inp.from_blocks && fromType && !inp.from_blocks.includes(fromType.slug)) {
      findings.errors.push({
        code: 'incompatible_ports',
        path: `/edges/${i}`,
        message: `input "${edge.to.block}.${inp.name}" takes the output of a ${inp.from_blocks.join(' or ')} block, not of "${edge.from.block}" (${fromType.ref})`,
        hint: `Connect the ${inp.from_blocks.join(' or ')} block whose output it reads.`,
      });
      return;
    }
  });

  for (const [target, edges] of inbound) {
    const [block, portName] = target.split('.') as [string, string];
    const port = typeOf.get(block)?.inputs.find((p) => p.name === portName);
    if (port && !port.multiple && edges.length > 1) {
      findings.errors.push({
        code: 'too_many_edges',
        path: `/edges/${edges[1]}`,
        message: `input "${target}" takes one edge but ${edges.length} connect to it (/edges/${edges.join(', /edges/')})`,
        hint: 'Keep one, or merge the inputs with a transform block first.',
      });
    }
  }

  spec.blocks.forEach((block, i) => {
    const type = typeOf.get(block.id);
    if (!type || indexOf.get(block.id) !== i) return;
    for (const port of type.inputs) {
      if (port.required && !inbound.has(`${block.id}.${port.name}`)) {
        findings.errors.push({
          code: 'missing_port',
          path: `/blocks/${i}`,
          message: `required input "${port.name}" (${port.type}) of block "${block.id}" is not connected`,
          hint: `Add an edge {"from": {"block": <a block with a ${port.type} output>, "port": ...}, "to": {"block": "${block.id}", "port": "${port.name}"}}.`,
        });
      }
    }
  });
}
