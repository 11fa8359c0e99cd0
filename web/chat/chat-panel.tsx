import type { Api } from '../api.ts';

export interface ChatPanelProps {
  api: Api;
  /** The pipeline the page shows (the chat's latest proposal, or one picked in the side view). */
  pipelineId: string | null;
  /** Called when the chat proposes or edits a pipeline. */
  onPipeline: (id: string) => void;
}

export function ChatPanel(_props: ChatPanelProps) {
  return <section className="chat">Chat</section>;
}
