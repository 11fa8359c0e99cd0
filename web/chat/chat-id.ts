/**
 * The chat this browser is in, kept in localStorage so a reload (or a new tab) finds it again:
 * the server holds the conversation, the browser only remembers which one.
 */
const CHAT_ITEM = 'constellation.chatId';

/** A fresh id in the form the service accepts (letters, digits, "-"). */
export function newChatId(): string {
  return `web-${crypto.randomUUID()}`;
}

export function currentChatId(storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage): string {
  const stored = storage.getItem(CHAT_ITEM);
  if (stored && /^[A-Za-z0-9_-]{1,100}$/.test(stored)) return stored;
  const id = newChatId();
  storage.setItem(CHAT_ITEM, id);
  return id;
}

export function startNewChat(storage: Pick<Storage, 'setItem'> = localStorage): string {
  const id = newChatId();
  storage.setItem(CHAT_ITEM, id);
  return id;
}
