import { useEffect, useState } from 'react';
import type { Api } from '../api.ts';
import { PipelineGraph } from '../graph/pipeline-graph.tsx';
import { usePipelineSpec } from '../graph/use-pipeline-spec.ts';
import { currentChatId, startNewChat } from './chat-id.ts';
import { ChatSession } from './chat-session.tsx';
import type { ChatPipeline } from './tool-parts.ts';
import { useChatStatus, useStoredMessages } from './use-chat-start.ts';

export interface ChatPanelProps {
  api: Api;
  /** The pipeline the page shows (the chat's latest proposal, or one picked in the side view). */
  pipelineId: string | null;
  /** Called when the chat proposes or edits a pipeline. */
  onPipeline: (id: string) => void;
}

/**
 * The pipeline being built, drawn, over the chat that builds it. Without a model endpoint the
 * graph still shows what the side view picks, and the chat says what turns it on.
 */
export function ChatPanel({ api, pipelineId, onPipeline }: ChatPanelProps) {
  const { status, error: statusError } = useChatStatus(api);
  const [chatId, setChatId] = useState(() => currentChatId());
  const stored = useStoredMessages(api, chatId);
  const [chatPipeline, setChatPipeline] = useState<ChatPipeline | null>(null);
  const fetched = usePipelineSpec(api, pipelineId, chatPipeline?.key ?? null);

  useEffect(() => {
    if (chatPipeline?.pipelineId) onPipeline(chatPipeline.pipelineId);
    // Each proposal or edit says so again, even of the same pipeline: the side view may show another by now.
  }, [chatPipeline?.key, chatPipeline?.pipelineId]);

  // The chat's own spec comes first (it is there before the save, and as it streams), unless the
  // page shows another pipeline picked in the side view.
  const fromChat = chatPipeline?.spec && (chatPipeline.pipelineId === null || chatPipeline.pipelineId === pipelineId) ? chatPipeline.spec : null;
  const spec = fromChat ?? (fetched?.id === pipelineId ? fetched.spec : null);
  const title = fetched && fetched.id === pipelineId ? `${fetched.name} (version ${fetched.version})` : spec ? 'Proposed pipeline' : undefined;

  return (
    <section className="chat">
      <PipelineGraph spec={spec} {...(title ? { title } : {})} />
      {statusError && <p className="error">{statusError}</p>}
      {status && !status.enabled && (
        <div className="chat-off" data-testid="chat-off">
          <strong>Chat is off:</strong> no language model endpoint is configured. {status.hint}
        </div>
      )}
      {stored.error && <p className="error">{stored.error}</p>}
      {status?.enabled && stored.messages && (
        <ChatSession
          key={chatId}
          api={api}
          chatId={chatId}
          initialMessages={stored.messages}
          onPipeline={setChatPipeline}
          onNewChat={() => {
            setChatPipeline(null);
            setChatId(startNewChat());
          }}
        />
      )}
    </section>
  );
}
