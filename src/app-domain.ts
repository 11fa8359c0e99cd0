import type { StoreHealth } from './adapters/store/store-health.ts';
import type { ApprovalRequests } from './auth/approval-requests.ts';
import type { ApiKeys } from './auth/api-keys.ts';
import type { KeyService, OperatorKeys } from './auth/key-service.ts';
import type { ChatHistory } from './chat/chat-history.ts';
import type { ChatService } from './chat/chat-service.ts';
import type { Domain } from './domain.ts';
import type { Metrics } from './observability/metrics.ts';
import type { Readiness } from './observability/readiness.ts';

/**
 * What the HTTP surface and the MCP server are built from: the domain facade the tools get, plus
 * the chat, the approval requests the tool runner opens and only a person answers, and the store's health check.
 * Kept apart from Domain so that tools never see the chat (whose agent runs the tools).
 */
export interface AppDomain extends Domain {
  chat: ChatService;
  chats: ChatHistory;
  approvals: ApprovalRequests;
  keys: ApiKeys;
  /** Key management as an org's admins do it (REST), and as the operator does (the keys CLI). */
  keyAdmin: KeyService;
  operatorKeys: OperatorKeys;
  health: StoreHealth;
  /** What GET /metrics shows, and where the HTTP layer and MCP sessions are counted. */
  metrics: Metrics;
  /** GET /health/ready: the store, the KV and each Dagster answer, and no shutdown has begun. */
  readiness: Readiness;
}
