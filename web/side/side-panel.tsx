import type { Api } from '../api.ts';
import { PipelineDetail } from './pipeline-detail.tsx';
import { PipelineList } from './pipeline-list.tsx';
import { useUiBases } from './use-environments.ts';
import './side.css';

export interface SidePanelProps {
  api: Api;
  /** The pipeline the page shows; its deployments and runs are listed. */
  pipelineId: string | null;
  onSelectPipeline: (id: string) => void;
}

/** The org's pipelines and, for the one selected here or by the chat, its deployments and runs. */
export function SidePanel({ api, pipelineId, onSelectPipeline }: SidePanelProps) {
  const uiBases = useUiBases(api);
  return (
    <section className="side">
      <PipelineList api={api} selected={pipelineId} onSelect={onSelectPipeline} />
      {pipelineId ? (
        <PipelineDetail key={pipelineId} api={api} pipelineId={pipelineId} uiBases={uiBases} />
      ) : (
        <p className="side-muted">Select a pipeline to see its deployments and runs.</p>
      )}
    </section>
  );
}
