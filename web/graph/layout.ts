/**
 * A pipeline spec as a graph: one node per block, one edge per spec edge, placed left to right by
 * depth (a block sits one column after the deepest block that feeds it). Pipelines are small
 * DAGs, so this is enough without a layout library. Pure, so it is tested without a browser.
 */

export interface SpecBlock {
  id: string;
  type: string;
  name?: string;
}

export interface SpecEdge {
  from: { block: string; port: string };
  to: { block: string; port: string };
}

export interface GraphSpec {
  blocks: SpecBlock[];
  edges: SpecEdge[];
}

export interface BlockNodeData extends Record<string, unknown> {
  /** What a person calls the block: its display name, else its id. */
  label: string;
  /** The catalog type, slug@version. */
  blockType: string;
}

export interface LaidOutNode {
  id: string;
  type: 'block';
  position: { x: number; y: number };
  data: BlockNodeData;
}

export interface LaidOutEdge {
  id: string;
  source: string;
  target: string;
  label: string;
}

export const COLUMN_WIDTH = 280;
export const ROW_HEIGHT = 100;

/**
 * Longest-path depth from the blocks nothing feeds. Blocks on a cycle (an invalid spec the agent
 * may still be fixing) never become ready; they go in one column after the rest, so the drawing
 * still shows them.
 */
export function depths(spec: GraphSpec): Map<string, number> {
  const ids = spec.blocks.map((b) => b.id);
  const known = new Set(ids);
  const edges = spec.edges.filter((e) => known.has(e.from.block) && known.has(e.to.block) && e.from.block !== e.to.block);
  const incoming = new Map(ids.map((id) => [id, 0]));
  for (const e of edges) incoming.set(e.to.block, incoming.get(e.to.block)! + 1);
  const depth = new Map<string, number>();
  const ready = ids.filter((id) => incoming.get(id) === 0);
  for (const id of ready) depth.set(id, 0);
  while (ready.length > 0) {
    const id = ready.shift()!;
    for (const e of edges.filter((x) => x.from.block === id)) {
      depth.set(e.to.block, Math.max(depth.get(e.to.block) ?? 0, depth.get(id)! + 1));
      const left = incoming.get(e.to.block)! - 1;
      incoming.set(e.to.block, left);
      if (left === 0) ready.push(e.to.block);
    }
  }
  const stuck = ids.filter((id) => incoming.get(id)! > 0);
  const deepest = Math.max(-1, ...ids.filter((id) => !stuck.includes(id)).map((id) => depth.get(id)!));
  for (const id of stuck) depth.set(id, deepest + 1);
  return depth;
}

/** Nodes and edges in @xyflow/react's shape; edges to blocks the spec lacks are left out. */
export function layoutSpec(spec: GraphSpec): { nodes: LaidOutNode[]; edges: LaidOutEdge[] } {
  const depth = depths(spec);
  const rowsUsed = new Map<number, number>();
  const nodes = spec.blocks.map((block): LaidOutNode => {
    const column = depth.get(block.id) ?? 0;
    const row = rowsUsed.get(column) ?? 0;
    rowsUsed.set(column, row + 1);
    return { id: block.id, type: 'block', position: { x: column * COLUMN_WIDTH, y: row * ROW_HEIGHT }, data: { label: block.name ?? block.id, blockType: block.type } };
  });
  const known = new Set(spec.blocks.map((b) => b.id));
  const edges = spec.edges
    .filter((e) => known.has(e.from.block) && known.has(e.to.block))
    .map((e) => ({ id: `${e.from.block}.${e.from.port}->${e.to.block}.${e.to.port}`, source: e.from.block, target: e.to.block, label: e.from.port === e.to.port ? e.from.port : `${e.from.port} → ${e.to.port}` }));
  return { nodes, edges };
}

/**
 * A spec as a tool call or the API carries it, or null when it is not one yet: a model may send
 * the spec as a JSON string, and a call still streaming has only part of it.
 */
export function asGraphSpec(value: unknown): GraphSpec | null {
  let spec = value;
  if (typeof spec === 'string') {
    try {
      spec = JSON.parse(spec);
    } catch {
      return null;
    }
  }
  if (!spec || typeof spec !== 'object') return null;
  const { blocks, edges } = spec as { blocks?: unknown; edges?: unknown };
  if (!Array.isArray(blocks)) return null;
  const validBlocks = blocks.filter((b): b is SpecBlock => !!b && typeof b.id === 'string' && typeof b.type === 'string');
  const validEdges = (Array.isArray(edges) ? edges : []).filter(
    (e): e is SpecEdge => typeof e?.from?.block === 'string' && typeof e?.from?.port === 'string' && typeof e?.to?.block === 'string' && typeof e?.to?.port === 'string',
  );
  return { blocks: validBlocks, edges: validEdges };
}
