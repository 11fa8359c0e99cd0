import { describe, expect, it } from 'vitest';
import { currentChatId, startNewChat } from '../../web/chat/chat-id.ts';

/** A Storage stand-in: a Map behind getItem/setItem. */
const memoryStorage = (initial: Record<string, string> = {}) => {
  const items = new Map(Object.entries(initial));
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), items };
};

// The service's chat id rule (src/routes/chat.ts): what the page stores must be accepted there.
const SERVICE_CHAT_ID = /^[A-Za-z0-9_-]{1,100}$/;

describe('the chat id the browser remembers', () => {
  it('keeps one id across loads, until a new chat replaces it', () => {
    const storage = memoryStorage();
    const first = currentChatId(storage);
    expect(first).toMatch(SERVICE_CHAT_ID);
    expect(currentChatId(storage)).toBe(first);
    const next = startNewChat(storage);
    expect(next).not.toBe(first);
    expect(currentChatId(storage)).toBe(next);
  });

  it('replaces a stored value the service would refuse', () => {
    const storage = memoryStorage({ 'constellation.chatId': '../../etc' });
    const id = currentChatId(storage);
    expect(id).toMatch(SERVICE_CHAT_ID);
    expect(storage.items.get('constellation.chatId')).toBe(id);
  });
});
