import { Background, Controls, Handle, Position, ReactFlow, type NodeProps, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo } from 'react';
import { layoutSpec, type BlockNodeData, type GraphSpec } from './layout.ts';

type BlockNode = Node<BlockNodeData, 'block'>;

/** A block: its name over its catalog type, with a handle each side for the edges. */
function BlockNodeView({ data }: NodeProps<BlockNode>) {
  return (
    <div className="graph-node" data-testid="graph-node">
      <Handle type="target" position={Position.Left} />
      <div className="graph-node-name">{data.label}</div>
      <div className="graph-node-type">{data.blockType}</div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

// Outside the component: a new object each render would make React Flow remount every node.
const NODE_TYPES = { block: BlockNodeView };

export function PipelineGraph({ spec, title }: { spec: GraphSpec | null; title?: string }) {
  const { nodes, edges } = useMemo(() => (spec ? layoutSpec(spec) : { nodes: [], edges: [] }), [spec]);
  return (
    <section className="graph" data-testid="pipeline-graph" aria-label="Pipeline graph">
      <div className="graph-title">{title ?? (spec ? 'Pipeline' : 'No pipeline yet: ask for one, or pick one in the list.')}</div>
      {spec && (
        <div className="graph-canvas">
          {/* Read-only: the spec is changed through the chat or the API, never by dragging. */}
          <ReactFlow nodes={nodes} edges={edges} nodeTypes={NODE_TYPES} fitView nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }}>
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
      )}
    </section>
  );
}
