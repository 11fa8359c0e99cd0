import type { UIMessage } from 'ai';
import { useEffect, useState } from 'react';
import { ApiError, type Api } from '../api.ts';

export interface ChatStatus {
  enabled: boolean;
  /** When chat is off: the variables that turn it on. */
  hint: string | null;
}

/** Whether the service has a model endpoint (GET /v1/chat/status); null while asking, or on error. */
export function useChatStatus(api: Api): { status: ChatStatus | null; error: string | null } {
  const [status, setStatus] = useState<ChatStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .get<ChatStatus>('/v1/chat/status')
      .then(setStatus)
      .catch((e: Error) => setError(e.message));
  }, [api]);
  return { status, error };
}

/**
 * The chat's stored messages (GET /v1/chats/{id}); a chat never posted to is a 404, that is, a new
 * chat with none. `messages` is null until known.
 */
export function useStoredMessages(api: Api, chatId: string): { messages: UIMessage[] | null; error: string | null } {
  const [state, setState] = useState<{ id: string; messages: UIMessage[] | null; error: string | null }>({ id: chatId, messages: null, error: null });
  useEffect(() => {
    let current = true;
    api
      .get<{ messages: UIMessage[] }>(`/v1/chats/${encodeURIComponent(chatId)}`)
      .then((chat) => current && setState({ id: chatId, messages: chat.messages, error: null }))
      .catch((e: Error) => {
        if (!current) return;
        if (e instanceof ApiError && e.status === 404) setState({ id: chatId, messages: [], error: null });
        else setState({ id: chatId, messages: [], error: e.message });
      });
    return () => {
      current = false;
    };
  }, [api, chatId]);
  // Messages loaded for another chat are not this one's.
  return state.id === chatId ? { messages: state.messages, error: state.error } : { messages: null, error: null };
}
