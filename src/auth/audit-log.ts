import type { Db } from '../adapters/store/db.ts';
import type { Surface } from '../dagster/policy.ts';
import { toAppError } from '../errors.ts';
import { findUnstorable } from '../input-guard.ts';
import type { Logger } from '../logger.ts';
import type { Principal } from './principal.ts';
import { requireRole } from './roles.ts';

/** One state-changing action, as the entry it passed through (REST middleware, tool runner) saw it. */
export interface AuditEntry {
  principal: Principal;
  /** A model's tool call (or an agent's key) is an agent's act; the rest a person's. */
  actor: 'person' | 'agent';
  surface: Surface;
  /** `POST /v1/pipelines/{id}/deploy` for REST, the tool's name for tool calls. */
  action: string;
  /** The ids the action named (path params, id-like tool arguments). */
  target: Record<string, unknown>;
  /** `ok`, or the error code the caller saw. */
  outcome: string;
  /** Where it came from: the request id; the chat and tool call, or the MCP session and request. */
  provenance: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  user_id: string;
  actor_kind: string;
  surface: string;
  action: string;
  target: Record<string, unknown>;
  outcome: string;
  provenance: Record<string, unknown>;
  at: Date;
}

export const AUDIT_PAGE_MAX = 200;

/** The outcome a caller saw: ok, or the stable code of the error. */
export const outcomeOf = (error: unknown): string => (error === undefined ? 'ok' : toAppError(error).code);

/**
 * What each org did, newest first. Recording never fails the action it records: a store that
 * cannot take the row is logged, and the action's own answer stands.
 */
export class AuditLog {
  private readonly db: Db;
  private readonly log: Logger;

  constructor(db: Db, log: Logger) {
    this.db = db;
    this.log = log;
  }

  async record(entry: AuditEntry): Promise<void> {
    // Internal callers (no role: a worker acting for a row's owner) pass through no entry.
    if (!entry.principal.role) return;
    try {
      await this.db.query(
        `INSERT INTO audit_log (org_id, user_id, actor_kind, surface, action, target, outcome, provenance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [entry.principal.orgId, entry.principal.userId, entry.actor, entry.surface, entry.action, storable(entry.target), entry.outcome, storable(entry.provenance)],
      );
    } catch (err) {
      this.log.error({ err, action: entry.action, surface: entry.surface }, 'could not write the audit log');
    }
  }

  /** The caller's org's entries, newest first; `before` is the id of the last entry of the previous page. */
  async list(principal: Principal, opts: { limit: number; before?: string | undefined }): Promise<AuditRow[]> {
    requireRole(principal, 'admin', 'Reading the audit log');
    const rows = await this.db.query<AuditRow & { id: string | number }>(
      `SELECT id, user_id, actor_kind, surface, action, target, outcome, provenance, at FROM audit_log
       WHERE org_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
      [principal.orgId, opts.before ?? null, Math.min(opts.limit, AUDIT_PAGE_MAX)],
    );
    return rows.map((r) => ({ ...r, id: String(r.id) }));
  }
}

/**
 * What a refused request sent can be what the store cannot hold (a NUL in a path param): the
 * entry then says so instead of failing to be written.
 */
const storable = (value: Record<string, unknown>) => JSON.stringify(findUnstorable(value, '').length ? { unstorable: true } : value);

/**
 * A tool call's provenance from its request id, which the surfaces write as
 * `chat:<chat id>:<tool call id>` (run-agent.ts) or `mcp:<session id>:<request id>` (register-tools.ts).
 */
export function toolProvenance(surface: Surface, requestId: string | undefined): Record<string, unknown> {
  if (!requestId) return {};
  const prefix = `${surface}:`;
  const rest = requestId.startsWith(prefix) ? requestId.slice(prefix.length) : null;
  const split = rest === null ? -1 : rest.lastIndexOf(':');
  if (rest === null || split < 0) return { request_id: requestId };
  const [outer, inner] = [rest.slice(0, split), rest.slice(split + 1)];
  return surface === 'chat' ? { request_id: requestId, chat_id: outer, tool_call_id: inner } : { request_id: requestId, mcp_session_id: outer, mcp_request_id: inner };
}
