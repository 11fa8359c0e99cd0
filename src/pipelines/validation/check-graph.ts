import type { CheckInput, Findings } from './report.ts';

/**
 * The blocks must form a DAG (Dagster refuses cycles), every block must be run by some job when
 * jobs are declared (else it is unreachable: nothing would ever materialize it), and a block with
 * no edges in a larger pipeline is flagged as probably forgotten.
 */
export function checkGraph({ spec, indexOf }: CheckInput, findings: Findings): void {
  const downstream = new Map<string, Array<{ to: string; edge: number }>>();
  const touched = new Set<string>();
  spec.edges.forEach((edge, i) => {
    const { block: from } = edge.from;
    const { block: to } = edge.to;
    if (!indexOf.has(from) || !indexOf.has(to) || from === to) return;
    downstream.set(from, [...(downstream.get(from) ?? []), { to, edge: i }]);
    touched.add(from).add(to);
  });

  const cycle = findCycle([...indexOf.keys()], downstream);
  if (cycle) {
    findings.errors.push({
      code: 'cycle',
      path: `/edges/${cycle.edges[0]}`,
      message: `the blocks form a cycle: ${cycle.nodes.join(' → ')}`,
      hint: `Remove one of the edges ${cycle.edges.map((e) => `/edges/${e}`).join(', ')}; data must flow one way.`,
    });
  }

  if (spec.jobs.length) {
    const inSomeJob = new Set(spec.jobs.flatMap((job) => job.blocks));
    spec.blocks.forEach((block, i) => {
      if (indexOf.get(block.id) === i && !inSomeJob.has(block.id)) {
        findings.errors.push({
          code: 'unreachable',
          path: `/blocks/${i}`,
          message: `block "${block.id}" is in no job, so no schedule, sensor or run would ever execute it`,
          hint: `Add "${block.id}" to a job's "blocks" (e.g. /jobs/0/blocks), or remove the block.`,
        });
      }
    });
  }

  if (spec.blocks.length > 1) {
    spec.blocks.forEach((block, i) => {
      if (indexOf.get(block.id) === i && !touched.has(block.id)) {
        findings.warnings.push({
          code: 'isolated_block',
          path: `/blocks/${i}`,
          message: `block "${block.id}" has no edges; it runs on its own`,
          hint: 'Connect it to the blocks it reads from or feeds, unless it is meant to stand alone.',
        });
      }
    });
  }
}

/** Depth-first search with colours; returns the first cycle found with the edges along it. */
function findCycle(
  nodes: string[],
  downstream: Map<string, Array<{ to: string; edge: number }>>,
): { nodes: string[]; edges: number[] } | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: Array<{ node: string; via: number }> = [];
  // Iterative so a 2,000-block chain cannot overflow the call stack.
  for (const start of nodes) {
    if (state.has(start)) continue;
    const work: Array<{ node: string; via: number; next: number }> = [{ node: start, via: -1, next: 0 }];
    state.set(start, 'visiting');
    stack.push({ node: start, via: -1 });
    while (work.length) {
      const top = work[work.length - 1]!;
      const out = downstream.get(top.node) ?? [];
      if (top.next >= out.length) {
        state.set(top.node, 'done');
        work.pop();
        stack.pop();
        continue;
      }
      const { to, edge } = out[top.next++]!;
      const seen = state.get(to);
      if (seen === 'visiting') {
        const at = stack.findIndex((s) => s.node === to);
        const loop = stack.slice(at);
        return { nodes: [...loop.map((s) => s.node), to], edges: [...loop.slice(1).map((s) => s.via), edge] };
      }
      if (!seen) {
        state.set(to, 'visiting');
        stack.push({ node: to, via: edge });
        work.push({ node: to, via: edge, next: 0 });
      }
    }
  }
  return null;
}
