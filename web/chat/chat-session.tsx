import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport, lastAssistantMessageIsCompleteWithApprovalResponses, type UIMessage } from 'ai';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Api } from '../api.ts';
import { MessageView } from './message-view.tsx';
import { latestPipeline, progressOf, type ChatPipeline, type Progress } from './tool-parts.ts';

export interface ChatSessionProps {
  api: Api;
  chatId: string;
  /** The chat's stored messages (GET /v1/chats/{id}), empty for a new chat. */
  initialMessages: UIMessage[];
  /** Called when the conversation proposes or edits a pipeline (and once on load for a stored one). */
  onPipeline: (pipeline: ChatPipeline) => void;
  onNewChat: () => void;
}

/** One chat through the AI SDK's own client, against the service's chat routes. */
export function ChatSession({ api, chatId, initialMessages, onPipeline, onNewChat }: ChatSessionProps) {
  // The key is read on each request, so a key entered after the page loaded is used.
  // The reconnect URL the transport derives from `api` is GET /v1/chat/{id}/stream, the service's own.
  const transport = useMemo(() => new DefaultChatTransport<UIMessage>({ api: '/v1/chat', headers: () => api.headers() }), [api]);
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [text, setText] = useState('');
  const chat = useChat<UIMessage>({
    id: chatId,
    messages: initialMessages,
    transport,
    // A turn still running when the page (re)loaded is followed from its start. A chat the
    // server does not hold yet has no turn, and asking for one would be a 404 shown as an error.
    resume: initialMessages.length > 0,
    // An approval answered in the chat is sent at once: the paused turn resumes with it.
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
    // Progress is transient (never part of a message): kept here while the call runs.
    onData: (part) => {
      const got = progressOf(part as { type: string; id?: string; data?: unknown });
      if (got) setProgress((prev) => ({ ...prev, [got.id]: got.progress }));
    },
  });
  const busy = chat.status === 'submitted' || chat.status === 'streaming';

  const latest = useMemo(() => latestPipeline(chat.messages), [chat.messages]);
  // Keyed on a string, not the object (new on every streamed chunk): a streaming proposal grows
  // its spec under one call id, and the drawing follows it block by block.
  const latestShape = latest ? `${latest.key}|${latest.pipelineId}|${JSON.stringify(latest.spec)}` : null;
  useEffect(() => {
    if (latest) onPipeline(latest);
  }, [latestShape]);

  const send = (event: FormEvent) => {
    event.preventDefault();
    const message = text.trim();
    if (!message || busy) return;
    setText('');
    void chat.sendMessage({ text: message });
  };

  // Closing the stream alone would leave the turn running on the server (it outlives its client).
  const stop = () => {
    void api.post(`/v1/chat/${encodeURIComponent(chatId)}/stop`).catch(() => undefined);
    void chat.stop();
  };

  return (
    <div className="chat-session" data-testid="chat" data-status={chat.status}>
      <div className="chat-toolbar">
        <button type="button" data-testid="new-chat" onClick={onNewChat} disabled={busy}>
          New chat
        </button>
      </div>
      <div className="messages" data-testid="messages">
        {chat.messages.map((m) => (
          <MessageView key={m.id} message={m} progress={progress} onApproval={(id, approved) => void chat.addToolApprovalResponse({ id, approved })} />
        ))}
      </div>
      {chat.error && (
        <p className="error" data-testid="chat-error">
          {chat.error.message}
        </p>
      )}
      <form className="composer" onSubmit={send}>
        <textarea
          data-testid="chat-input"
          value={text}
          placeholder="e.g. every 6 hours copy new and changed customers from Postgres into ClickHouse"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) send(e);
          }}
        />
        {busy ? (
          <button type="button" data-testid="stop" onClick={stop}>
            Stop
          </button>
        ) : (
          <button type="submit" data-testid="send" disabled={!text.trim()}>
            Send
          </button>
        )}
      </form>
    </div>
  );
}
