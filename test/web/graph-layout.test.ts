import { describe, expect, it } from 'vitest';
import { asGraphSpec, COLUMN_WIDTH, depths, layoutSpec, type GraphSpec } from '../../web/graph/layout.ts';

const edge = (from: string, to: string, port = 'table') => ({ from: { block: from, port }, to: { block: to, port } });
const block = (id: string, name?: string) => ({ id, type: `${id}_type@1`, ...(name ? { name } : {}) });

describe('a pipeline spec laid out as a graph', () => {
  it('draws the flagship as two nodes left to right joined by one edge, labelled with name and type', () => {
    const { nodes, edges } = layoutSpec({
      blocks: [{ id: 'load_customers', type: 'clickhouse_replacing_merge_tree_load@1' }, { id: 'extract_customers', type: 'postgres_incremental_extract@1', name: 'Extract customers' }],
      edges: [{ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'load_customers', port: 'table' } }],
    });
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
    // Listed sink first in the spec, drawn source first: position follows the edges, not the order.
    expect(byId.extract_customers!.position.x).toBe(0);
    expect(byId.load_customers!.position.x).toBe(COLUMN_WIDTH);
    expect(byId.extract_customers!.data).toEqual({ label: 'Extract customers', blockType: 'postgres_incremental_extract@1' });
    expect(byId.load_customers!.data.label).toBe('load_customers');
    expect(edges).toEqual([{ id: 'extract_customers.rows->load_customers.table', source: 'extract_customers', target: 'load_customers', label: 'rows → table' }]);
  });

  it('puts a block one column after the deepest block feeding it, and stacks a column', () => {
    const spec: GraphSpec = { blocks: ['a', 'b', 'c', 'd'].map((id) => block(id)), edges: [edge('a', 'b'), edge('b', 'd'), edge('a', 'd'), edge('c', 'd')] };
    expect(Object.fromEntries(depths(spec))).toEqual({ a: 0, c: 0, b: 1, d: 2 });
    const positions = Object.fromEntries(layoutSpec(spec).nodes.map((n) => [n.id, n.position]));
    expect(positions.a!.y).not.toBe(positions.c!.y);
    expect(positions.d!.x).toBe(2 * COLUMN_WIDTH);
  });

  it('still draws every block of a spec with a cycle or a dangling edge (one the agent is still fixing)', () => {
    const spec: GraphSpec = { blocks: ['a', 'b', 'c'].map((id) => block(id)), edges: [edge('a', 'b'), edge('b', 'c'), edge('c', 'b'), edge('a', 'ghost')] };
    const { nodes, edges } = layoutSpec(spec);
    expect(nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    expect(Object.fromEntries(depths(spec))).toEqual({ a: 0, b: 1, c: 1 });
    expect(edges.map((e) => e.target)).not.toContain('ghost');
  });

  it('reads a spec sent as a JSON string, and refuses what is not one yet', () => {
    const spec = { blocks: [block('a')], edges: [] };
    expect(asGraphSpec(JSON.stringify(spec))).toEqual(spec);
    expect(asGraphSpec('{"blocks": [{"id": "a", "ty')).toBeNull();
    expect(asGraphSpec({ name: 'no blocks yet' })).toBeNull();
    // A block still streaming (no type yet) is left out until it has one.
    expect(asGraphSpec({ blocks: [block('a'), { id: 'b' }], edges: [{ from: { block: 'a' } }] })).toEqual({ blocks: [block('a')], edges: [] });
  });
});
