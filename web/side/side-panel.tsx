import type { Api } from '../api.ts';

export interface SidePanelProps {
  api: Api;
  /** The pipeline the page shows; its deployments and runs are listed. */
  pipelineId: string | null;
  onSelectPipeline: (id: string) => void;
}

export function SidePanel(_props: SidePanelProps) {
  return <section className="side">Pipelines</section>;
}
