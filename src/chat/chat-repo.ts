import type { UIMessage } from 'ai';
import type { Db } from '../adapters/store/db.ts';
import type { Principal } from '../auth/principal.ts';
import { hashId } from '../auth/approval-requests.ts';

export interface ChatRow {
  id: string;
  org_id: string;
  owner_id: string;
  title: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ApprovalRow {
  id: string;
  chat_id: string;
  user_id: string;
  tool_call_id: string;
  tool_name: string;
  input: Record<string, unknown>;
  status: 'pending' | 'approved' | 'denied';
}

/** Chats, their UIMessages (one row per message, rewritten as it grows) and approvals. */
export class ChatRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * The chat for this id, created for `principal` when new. Null when the id belongs to someone
   * else (which callers report as not found: ids are not capabilities).
   */
  async open(principal: Principal, id: string, title: string): Promise<(ChatRow & { created: boolean }) | null> {
    // One statement: the insert's row when it is new, else the stored one if it is this user's
    // (the outer SELECT reads the table as it was before the insert).
    const rows = await this.db.query<ChatRow & { created: boolean }>(
      `WITH inserted AS (
         INSERT INTO chats (id, org_id, owner_id, title) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING *
       )
       SELECT *, true AS created FROM inserted
       UNION ALL
       SELECT *, false AS created FROM chats WHERE id = $1 AND owner_id = $3`,
      [id, principal.orgId, principal.userId, title.slice(0, 200)],
    );
    return rows[0] ?? null;
  }

  /**
   * Creates the chat for `principal` with its first message, in one statement (both or neither);
   * false, storing nothing, when the id is taken (by anyone: see `open`).
   */
  async create(principal: Principal, id: string, title: string, first: UIMessage): Promise<boolean> {
    const rows = await this.db.query(
      `WITH chat AS (
         INSERT INTO chats (id, org_id, owner_id, title) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id
       )
       INSERT INTO chat_messages (chat_id, id, seq, role, message)
       SELECT id, $5, 1, $6, $7::jsonb FROM chat
       RETURNING chat_id`,
      [id, principal.orgId, principal.userId, title.slice(0, 200), first.id, first.role, JSON.stringify(first)],
    );
    return rows.length === 1;
  }

  async get(principal: Principal, id: string): Promise<ChatRow | null> {
    const rows = await this.db.query<ChatRow>(`SELECT * FROM chats WHERE id = $1 AND owner_id = $2`, [id, principal.userId]);
    return rows[0] ?? null;
  }

  async list(principal: Principal): Promise<ChatRow[]> {
    return this.db.query<ChatRow>(`SELECT * FROM chats WHERE owner_id = $1 ORDER BY updated_at DESC, id LIMIT 200`, [principal.userId]);
  }

  async delete(principal: Principal, id: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM chats WHERE id = $1 AND owner_id = $2 RETURNING id`, [id, principal.userId])).length > 0;
  }

  async messages(chatId: string): Promise<UIMessage[]> {
    const rows = await this.db.query<{ message: UIMessage }>(`SELECT message FROM chat_messages WHERE chat_id = $1 ORDER BY seq`, [chatId]);
    return rows.map((r) => r.message);
  }

  /** Inserts or rewrites one message, keeping its place in the conversation. */
  async saveMessage(chatId: string, message: UIMessage, json = JSON.stringify(message)): Promise<void> {
    // One statement, so one round trip and atomic without a transaction around it.
    await this.db.query(
      `WITH saved AS (
         INSERT INTO chat_messages (chat_id, id, seq, role, message)
         VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM chat_messages WHERE chat_id = $1), $3, $4::jsonb)
         ON CONFLICT (chat_id, id) DO UPDATE SET message = EXCLUDED.message, updated_at = now()
         RETURNING chat_id
       )
       UPDATE chats SET updated_at = now() WHERE id IN (SELECT chat_id FROM saved)`,
      [chatId, message.id, message.role, json],
    );
  }

  /** Keeps the id's hash only (the same as its approval request's), and the call's arguments, no token. */
  async createApproval(a: Omit<ApprovalRow, 'status'>): Promise<void> {
    await this.db.query(
      `INSERT INTO chat_approvals (id, chat_id, user_id, tool_call_id, tool_name, input) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
      [hashId(a.id), a.chat_id, a.user_id, a.tool_call_id, a.tool_name, JSON.stringify(a.input)],
    );
  }

  /**
   * Settles a pending approval issued for this chat, user and tool call; null for anything else
   * (forged, reused, foreign). The call is part of the match, not checked afterwards, so an answer
   * naming the wrong call cannot use up (or deny) the real one.
   */
  async settleApproval(id: string, chatId: string, userId: string, toolCallId: string, approved: boolean): Promise<ApprovalRow | null> {
    const rows = await this.db.query<ApprovalRow>(
      `UPDATE chat_approvals SET status = $5 WHERE id = $1 AND chat_id = $2 AND user_id = $3 AND tool_call_id = $4 AND status = 'pending' RETURNING *`,
      [hashId(id), chatId, userId, toolCallId, approved ? 'approved' : 'denied'],
    );
    return rows[0] ?? null;
  }
}
