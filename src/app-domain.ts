import type { StoreHealth } from './adapters/store/store-health.ts';
import type { ApprovalTokens } from './auth/approvals.ts';
import type { ApiKeys } from './auth/api-keys.ts';
import type { KeyService } from './auth/key-service.ts';
import type { ChatHistory } from './chat/chat-history.ts';
import type { ChatService } from './chat/chat-service.ts';
import type { Domain } from './domain.ts';

/**
 * What the HTTP surface and the MCP server are built from: the domain facade the tools get, plus
 * the chat, the one-time approval tokens the tool runner checks, and the store's health check.
 * Kept apart from Domain so that tools never see the chat (whose agent runs the tools).
 */
export interface AppDomain extends Domain {
  chat: ChatService;
  chats: ChatHistory;
  approvals: ApprovalTokens;
  keys: ApiKeys;
  /** Keys as an org's admins manage them (GET/POST /v1/api-keys). */
  keyAdmin: KeyService;
  health: StoreHealth;
}
